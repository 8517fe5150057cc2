package dev.connstate.spring;

import java.time.Duration;

import dev.connstate.ConnStateListener;
import org.eclipse.jetty.server.Server;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.jetty.JettyServerCustomizer;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: when the application runs on Jetty (Boot's Jetty web server
 * factory is a bean), attaches a connection state tracker to Boot's Jetty server, with the sinks
 * of the {@code connstate.*} properties and every {@link ConnStateListener} bean; drains the
 * connections in Boot's graceful shutdown; stops the tracker after the web server.
 * {@code connstate.enabled=false} turns it all off.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.jetty.autoconfigure.servlet.JettyServletWebServerAutoConfiguration",
    "org.springframework.boot.jetty.autoconfigure.reactive.JettyReactiveWebServerAutoConfiguration"})
@ConditionalOnClass({Server.class, JettyServerCustomizer.class})
@ConditionalOnBean(ConfigurableJettyWebServerFactory.class)
@ConditionalOnBooleanProperty(name = ConnStateProperties.PREFIX + ".enabled", matchIfMissing = true)
@EnableConfigurationProperties(ConnStateProperties.class)
public final class ConnStateAutoConfiguration
{
    @Bean
    @ConditionalOnMissingBean
    ConnStateServerCustomizer connStateServerCustomizer(ConnStateProperties properties, ObjectProvider<ConnStateListener> listeners)
    {
        return new ConnStateServerCustomizer(properties, listeners);
    }

    /** Through the factory, not as a {@code JettyServerCustomizer} bean: an application's own factory bean gets it too. */
    @Bean
    WebServerFactoryCustomizer<ConfigurableJettyWebServerFactory> connStateJettyFactoryCustomizer(ConnStateServerCustomizer jetty)
    {
        return factory -> factory.addServerCustomizers(jetty);
    }

    @Bean
    @ConditionalOnProperty(name = "server.shutdown", havingValue = "graceful", matchIfMissing = true)
    @ConditionalOnBooleanProperty(name = ConnStateProperties.PREFIX + ".drain.enabled", matchIfMissing = true)
    GracefulDrain connStateGracefulDrain(ConnStateServerCustomizer jetty, ObjectProvider<LifecycleProperties> lifecycle)
    {
        Duration timeout = lifecycle.getIfAvailable(LifecycleProperties::new).getTimeoutPerShutdownPhase();
        return new GracefulDrain(jetty, timeout);
    }

    @Bean
    TrackerStop connStateTrackerStop(ConnStateServerCustomizer jetty)
    {
        return new TrackerStop(jetty);
    }
}
