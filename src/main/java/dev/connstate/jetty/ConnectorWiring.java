package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.util.component.Container;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hooks {@link JettyEvents} into connectors, and takes it out again: as a connection listener
 * (connections opening and closing), an accept listener of the selector (sockets closing), and
 * a request customizer and request-end hook of each {@link HttpConfiguration} (requests
 * beginning and ending). Never the handler tree, so a later {@code <Set name="handler">} cannot
 * drop it. Each connector and configuration is hooked once, however often it is attached.
 */
final class ConnectorWiring
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnectorWiring.class);

    private final JettyEvents events;
    private final List<Connector> connectors = new ArrayList<>();
    private final Set<HttpConfiguration> configurations = Collections.newSetFromMap(new IdentityHashMap<>());

    ConnectorWiring(JettyEvents events)
    {
        this.events = events;
    }

    /**
     * Hooks {@code connector}: call it before the connector starts (its selector manager takes
     * accept listeners only when it starts).
     */
    synchronized void attach(Connector connector)
    {
        if (connectors.contains(connector))
            return;
        connectors.add(connector);
        connector.addEventListener(events);
        for (SelectorManager manager : connector.getContainedBeans(SelectorManager.class))
            manager.addEventListener(events);
        for (ConnectionFactory factory : connector.getConnectionFactories())
        {
            for (HttpConfiguration.ConnectionFactory httpFactory : httpFactories(factory))
            {
                HttpConfiguration configuration = httpFactory.getHttpConfiguration();
                if (configurations.add(configuration))
                {
                    configuration.addCustomizer(events);
                    configuration.addComplianceViolationListener(events.requestEnds());
                }
            }
        }
        if (LOG.isDebugEnabled())
            LOG.debug("Tracking connection states of {}", connector);
    }

    /**
     * The HTTP factory itself, or those a wrapper holds as beans: Dropwizard wraps every factory
     * of its connectors in its metrics' {@code InstrumentedConnectionFactory}, which holds the
     * real one as a bean.
     */
    private static Collection<HttpConfiguration.ConnectionFactory> httpFactories(ConnectionFactory factory)
    {
        if (factory instanceof HttpConfiguration.ConnectionFactory httpFactory)
            return List.of(httpFactory);
        if (factory instanceof Container wrapper)
            return wrapper.getContainedBeans(HttpConfiguration.ConnectionFactory.class);
        return List.of();
    }

    /** Unhooks every connector and configuration hooked so far. */
    synchronized void detachAll()
    {
        for (Connector connector : connectors)
        {
            connector.removeEventListener(events);
            for (SelectorManager manager : connector.getContainedBeans(SelectorManager.class))
                manager.removeEventListener(events);
        }
        connectors.clear();
        for (HttpConfiguration configuration : configurations)
        {
            configuration.getCustomizers().remove(events);
            configuration.removeComplianceViolationListener(events.requestEnds());
        }
        configurations.clear();
    }
}
