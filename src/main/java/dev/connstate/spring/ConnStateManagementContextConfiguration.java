package dev.connstate.spring;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * The management server's part (a separate {@code management.server.port}): Boot builds that
 * server in a child context, from a factory of its own; its connectors are tracked by the
 * application's tracker, so the management port's connections are reported, counted and shown
 * with the others.
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
@ConditionalOnClass(ConfigurableJettyWebServerFactory.class)
public class ConnStateManagementContextConfiguration
{
    @Bean
    WebServerFactoryCustomizer<ConfigurableJettyWebServerFactory> connStateManagementServerCustomizer(ObjectProvider<ConnStateServerCustomizer> jetty)
    {
        // The application's tracker, from the parent context; none if connstate.enabled=false.
        return factory -> jetty.ifAvailable(owner -> factory.addServerCustomizers(owner::trackAlso));
    }
}
