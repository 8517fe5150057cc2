package dev.connstate.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.jetty.ConnStateStatusHandler;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns checked settings into a tracker ready to run: the drain's settings, the keep-alive and
 * request header timeouts, the caps of connections per client, the connection table,
 * OpenTelemetry, the sinks and listeners (each queued with the settings' capacity), and the one
 * log line that says where the connection states go. The {@code connstate} module, the Spring
 * Boot auto-configuration and the Dropwizard bundle all build their tracker here.
 *
 * <p>One assembly per start of its owner, on the thread that starts it, in this order:</p>
 * <ol>
 *   <li>{@link #TrackerAssembly(ConnStateTracker, ModuleSettings)} sets the drain, the timeouts
 *   and the caps per client, before the server starts (the tracker decides then whether Jetty's
 *   {@code GracefulHandler} goes);</li>
 *   <li>{@link #beforeHandlersStart(Server)}, when the server starts, before its handlers do: Jetty's
 *   {@code GracefulHandler} out if the drain is on, the connection table in;</li>
 *   <li>{@link #addListeners(List, List)}: OpenTelemetry, then the sinks and listeners, all of
 *   them or none; a setting that cannot work throws a {@link ConnStateConfigurationException}
 *   naming the property and the value, with nothing left open;</li>
 *   <li>the owner starts the tracker, then calls {@link #logReporting()}; if the start fails,
 *   {@link #close(boolean)} with {@code true} closes what was made;</li>
 *   <li>{@link #close(boolean)} when the owner stops: the listeners come off the tracker (whose
 *   stop delivered their queues and closed them) and OpenTelemetry is unregistered.</li>
 * </ol>
 * <p>The Micrometer binding is not here: Spring Boot binds meter binders to the registries it
 * chooses ({@code ConnStateMeters}); a Jetty module has no registry.</p>
 */
public final class TrackerAssembly
{
    private static final Logger LOG = LoggerFactory.getLogger(TrackerAssembly.class);

    private final ConnStateTracker tracker;
    private final ModuleSettings settings;
    /** What was added to the tracker (own listeners through their wrapper). */
    private final List<ConnStateListener> added = new ArrayList<>();
    /** What was made from the settings: closed here if the tracker never started. */
    private final List<ConnStateListener> made = new ArrayList<>();
    /** What the log line names: sinks by what they write to, listeners by their class. */
    private final List<String> described = new ArrayList<>();
    /** Where the counts are read besides the listeners, for the log line of counting only. */
    private final List<String> readers = new ArrayList<>();
    /** The OpenTelemetry instruments, while registered. */
    private AutoCloseable otel;

    /**
     * Sets the tracker's drain, keep-alive and request header timeouts and caps of connections per
     * client from the settings: call it before the server starts.
     *
     * @param tracker the tracker to assemble, not started
     * @param settings the checked settings
     */
    public TrackerAssembly(ConnStateTracker tracker, ModuleSettings settings)
    {
        this.tracker = tracker;
        this.settings = settings;
        tracker.getDrain().setEnabled(settings.drain());
        tracker.getDrain().setNewGraceMillis(settings.drainNewGraceMillis());
        // Set every time: 0 (blank) also turns off a timeout a previous start of the owner set.
        tracker.getKeepAlive().setTimeoutMillis(settings.keepAliveTimeoutMillis());
        tracker.getRequestHeaderTimeout().setTimeoutMillis(settings.requestHeaderTimeoutMillis());
        // The settings checked the list: this cannot throw.
        tracker.getClientLimits().setExempt(settings.clientExempt());
        tracker.getClientLimits().setMaxConnections(settings.clientMaxConnections());
        tracker.getClientLimits().setMaxNew(settings.clientMaxNew());
    }

    /**
     * Readies the server's handler chain: takes Jetty's {@code GracefulHandler} out if the drain is
     * on ({@link dev.connstate.jetty.ConnectionDrain#replaceGracefulHandlers}), and puts the live
     * connection table in front of the server's handler if the settings name a path and the table
     * of this tracker is not in place yet (a server started again keeps it). Jetty XML may set the
     * handler after the module's XML ran: call it when the server starts, after all XML ran, before
     * any handler starts. It logs the path it serves.
     *
     * @param server the server whose handler chain to ready
     */
    public void beforeHandlersStart(Server server)
    {
        tracker.getDrain().replaceGracefulHandlers(server);
        if (settings.statusPath().isEmpty())
            return;
        // The settings checked the path and the allow list: this cannot throw.
        if (!HandlerInsertion.insertOnce(server, ConnStateStatusHandler.class, table -> table.getTracker() == tracker,
            () -> new ConnStateStatusHandler(tracker, settings.statusPath(), settings.statusAllow(), settings.statusMaxRows())))
            return;
        LOG.info("Serving the connection table at {} to loopback{}", settings.statusPath(), settings.statusAllow().isEmpty() ? "" : " and " + settings.statusAllow());
    }

    /**
     * Registers the OpenTelemetry instruments if the settings ask, then makes the settings' sinks
     * and listeners, and adds them and {@code own} to the tracker, each queued with the settings'
     * capacity: all of them, or none and nothing left open.
     *
     * @param own the owner's own listeners (Spring's listener beans), each queued under its simple
     * class name, never closed by the tracker; may be empty
     * @param readers where the owner lets the counts be read besides the listeners ({@code JMX},
     * an endpoint); the settings' table and OpenTelemetry are added here. With no sink and no
     * listener, empty readers are refused: nothing would be reported
     * @throws ConnStateConfigurationException naming the first setting that cannot work
     */
    public void addListeners(List<ConnStateListener> own, List<String> readers)
    {
        // OpenTelemetry first: its absence is refused before any sink opens a file. OtelSwitch
        // loads no OpenTelemetry class unless it is on.
        otel = OtelSwitch.apply(tracker, settings.otel());
        Map<String, ConnStateListener> sinks;
        try
        {
            sinks = ListenerFactory.make(settings, !readers.isEmpty() || !own.isEmpty());
        }
        catch (RuntimeException x)
        {
            closeOtel();
            throw x;
        }
        made.addAll(sinks.values());
        sinks.forEach((name, listener) ->
        {
            add(name, listener);
            described.add(settings.sinks().contains(name) ? listener.toString() : listener.getClass().getName());
        });
        for (ConnStateListener listener : own)
        {
            // Through a wrapper: the queue closes what it feeds when it stops, and this is the owner's to close.
            add(listener.getClass().getSimpleName(), new ConnStateListener()
            {
                @Override
                public void onStateChange(ConnInfo conn, ConnState state)
                {
                    listener.onStateChange(conn, state);
                }

                @Override
                public boolean wants(ConnState state)
                {
                    return listener.wants(state);
                }
            });
            described.add(listener.getClass().getName());
        }
        this.readers.addAll(readers);
        if (!settings.statusPath().isEmpty())
            this.readers.add(settings.statusPath());
        if (otel != null)
            this.readers.add("OpenTelemetry");
    }

    private void add(String name, ConnStateListener listener)
    {
        tracker.addListener(name, listener, settings.queueCapacity());
        added.add(listener);
    }

    /**
     * Logs, once the tracker started, the one line that says where the connection states go.
     */
    public void logReporting()
    {
        if (otel != null)
            LOG.info("Reporting connection metrics through OpenTelemetry (GlobalOpenTelemetry)");
        if (described.isEmpty())
            LOG.info("Counting connection states of every connector, no sink: read them through {}", String.join(" and ", readers));
        else
            LOG.info("Reporting connection states of every connector to {}", String.join(", ", described));
    }

    /**
     * Takes the listeners off the tracker and unregisters OpenTelemetry.
     *
     * @param failedStart whether the tracker did not start: its queues may not have closed what
     * the settings made, closed here then
     */
    public void close(boolean failedStart)
    {
        added.forEach(tracker::removeListener);
        added.clear();
        if (failedStart)
            made.forEach(ListenerFactory::close);
        made.clear();
        described.clear();
        readers.clear();
        closeOtel();
    }

    private void closeOtel()
    {
        AutoCloseable registered = otel;
        otel = null;
        if (registered == null)
            return;
        try
        {
            registered.close();
        }
        catch (Exception x)
        {
            LOG.debug("Could not unregister the OpenTelemetry instruments", x);
        }
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,listeners=%s}", getClass().getSimpleName(), hashCode(), settings, described);
    }
}
