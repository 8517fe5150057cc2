package dev.connstate.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.connstate.ConnStateListener;
import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.config.ModuleSettings;
import dev.connstate.config.TrackerAssembly;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.Container;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.jetty.JettyServerCustomizer;

/**
 * Owns the application's {@link ConnStateTracker}: attaches it to Boot's Jetty server when Boot
 * builds the server, with the sinks of the {@code connstate.*} properties and every
 * {@link ConnStateListener} bean, and hands it to whoever needs it (metrics, the actuator
 * endpoint, the drain).
 *
 * <p>The properties are checked when this bean is made, with the module's rules; a sink that
 * cannot be made (an unknown name, a bad line format, a file that cannot be appended to) fails
 * when the server is built. Either way Boot's failure report names the {@code connstate.*}
 * property and the value.</p>
 *
 * <p>Every connector put on the server is tracked, whenever it is put there: Boot takes the
 * connectors off the server while it starts the server, and puts them back before it starts
 * them. The management server (a separate {@code management.server.port}) is another server,
 * built in a child context: {@link #trackAlso(Server)} tracks its connectors with the same
 * tracker.</p>
 */
public class ConnStateServerCustomizer implements JettyServerCustomizer
{
    private final ModuleSettings settings;
    private final ObjectProvider<ConnStateListener> listenerBeans;
    private final List<Consumer<ConnStateTracker>> waiting = new ArrayList<>();
    private ConnStateTracker tracker;

    /**
     * @param properties the {@code connstate.*} properties, checked here
     * @param listenerBeans the application's listeners, each registered queued when the server is built
     */
    public ConnStateServerCustomizer(ConnStateProperties properties, ObjectProvider<ConnStateListener> listenerBeans)
    {
        this.settings = properties.settings();
        this.listenerBeans = listenerBeans;
    }

    /**
     * Called by Boot once it built its Jetty server, before the server starts: attaches the
     * tracker, the sinks and the listener beans. A later server (one the same factory builds
     * again) is tracked by the same tracker.
     */
    @Override
    public void customize(Server server)
    {
        synchronized (this)
        {
            if (tracker != null)
            {
                trackAlso(server);
                return;
            }
        }
        ConnStateTracker made = new ConnStateTracker(server);
        TrackerAssembly assembly = new TrackerAssembly(made, settings);
        List<ConnStateListener> beans = listenerBeans.orderedStream().toList();
        try
        {
            // The counts can always be read: counting only is allowed.
            assembly.addListeners(beans, List.of("the connstate endpoint and the metrics"));
        }
        catch (ConnStateConfigurationException x)
        {
            throw ConnStateProperties.invalid(x);
        }
        server.addBean(made);
        server.addEventListener(new TrackEveryConnector(made));
        assembly.logReporting();
        List<Consumer<ConnStateTracker>> ready;
        synchronized (this)
        {
            tracker = made;
            ready = List.copyOf(waiting);
            waiting.clear();
        }
        ready.forEach(action -> action.accept(made));
    }

    /**
     * Tracks every connector of another server with this tracker: Boot's management server.
     *
     * @param server a server built after the application's
     */
    public void trackAlso(Server server)
    {
        whenTracking(t -> server.addEventListener(new TrackEveryConnector(t)));
    }

    /**
     * @return the settings the tracker is assembled from, checked
     */
    public ModuleSettings settings()
    {
        return settings;
    }

    /**
     * @return the tracker, once Boot built its Jetty server
     * @throws IllegalStateException before
     */
    public synchronized ConnStateTracker tracker()
    {
        if (tracker == null)
            throw new IllegalStateException("Spring Boot has not built its Jetty server yet");
        return tracker;
    }

    /**
     * @return whether Boot built its Jetty server, so that {@link #tracker()} has a tracker
     */
    public synchronized boolean isTracking()
    {
        return tracker != null;
    }

    /**
     * Runs {@code action} with the tracker: now if Boot built its Jetty server, else as soon as it
     * does, on the thread that builds it.
     *
     * @param action what needs the tracker
     */
    public void whenTracking(Consumer<ConnStateTracker> action)
    {
        ConnStateTracker now;
        synchronized (this)
        {
            now = tracker;
            if (now == null)
            {
                waiting.add(action);
                return;
            }
        }
        action.accept(now);
    }

    /** Hands every connector put on a server to the tracker, those there already included. */
    private static final class TrackEveryConnector implements Container.Listener
    {
        private final ConnStateTracker tracker;

        private TrackEveryConnector(ConnStateTracker tracker)
        {
            this.tracker = tracker;
        }

        @Override
        public void beanAdded(Container parent, Object child)
        {
            if (child instanceof Connector connector)
                tracker.track(connector);
        }

        @Override
        public void beanRemoved(Container parent, Object child)
        {
        }
    }
}
