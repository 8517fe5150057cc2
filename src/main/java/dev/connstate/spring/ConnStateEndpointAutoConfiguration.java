package dev.connstate.spring;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: with the actuator, the {@code connstate} endpoint, available
 * where the application exposes it.
 */
@AutoConfiguration(after = ConnStateAutoConfiguration.class)
@ConditionalOnClass(ConditionalOnAvailableEndpoint.class)
@ConditionalOnBean(ConnStateServerCustomizer.class)
public final class ConnStateEndpointAutoConfiguration
{
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnAvailableEndpoint
    ConnStateEndpoint connStateEndpoint(ConnStateServerCustomizer jetty)
    {
        return new ConnStateEndpoint(jetty);
    }
}
