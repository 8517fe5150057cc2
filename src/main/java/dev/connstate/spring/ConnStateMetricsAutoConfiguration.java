package dev.connstate.spring;

import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: with Micrometer on the class path, the connection metrics are a
 * meter binder, which Boot binds to the application's registries.
 */
@AutoConfiguration(after = ConnStateAutoConfiguration.class)
@ConditionalOnClass(MeterBinder.class)
@ConditionalOnBean(ConnStateServerCustomizer.class)
public final class ConnStateMetricsAutoConfiguration
{
    @Bean
    @ConditionalOnMissingBean
    ConnStateMeters connStateMeters(ConnStateServerCustomizer jetty)
    {
        return new ConnStateMeters(jetty);
    }
}
