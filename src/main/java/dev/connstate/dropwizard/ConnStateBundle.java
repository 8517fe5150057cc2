package dev.connstate.dropwizard;

import java.util.List;
import java.util.function.Function;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dev.connstate.ConnState;
import dev.connstate.config.ConnStateConfigurationException;
import dev.connstate.config.ModuleSettings;
import dev.connstate.config.TrackerAssembly;
import dev.connstate.jetty.ConnStateTracker;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.ConfiguredBundle;
import io.dropwizard.core.setup.Environment;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.LifeCycle;

/**
 * Tracks every connector of a Dropwizard application's Jetty server with the settings of the
 * application's {@code connstate:} YAML block ({@link ConnStateFactory}), and publishes the counts
 * in Dropwizard's metrics.
 *
 * <pre>{@code
 * bootstrap.addBundle(new ConnStateBundle<MyConfiguration>(MyConfiguration::getConnState));
 * }</pre>
 *
 * <p>The settings are checked when Dropwizard reads the YAML; the tracker is assembled
 * ({@link TrackerAssembly}) when Dropwizard's server starts, on the thread that starts it, before
 * any of the server's beans or handlers start, and stops with the server, after its connectors.
 * Dropwizard's {@code server.shutdownGracePeriod} is Jetty's stop timeout, so the application's
 * stop drains the connections within it.</p>
 *
 * <p>Metrics, in the application's {@link MetricRegistry} (its admin {@code /metrics}): gauges
 * {@code connstate.connections.new}, {@code .active} and {@code .idle} (open connections by
 * state, counted when read), {@code connstate.connections.opened}, {@code .closed} and
 * {@code .hijacked}, and {@code connstate.requests} (totals since the server started). The
 * histograms of the Micrometer and OpenTelemetry instruments are not bridged: see the README.</p>
 *
 * @param <T> the application's configuration
 */
public class ConnStateBundle<T extends Configuration> implements ConfiguredBundle<T>
{
    /** The prefix of the metrics' names. */
    public static final String METRICS_PREFIX = "connstate";

    private final Function<T, ConnStateFactory> settings;
    /** The running tracker, for the gauges; {@code null} before the server starts. */
    private volatile ConnStateTracker tracker;

    /**
     * @param settings the application configuration's {@code connstate:} block, e.g.
     * {@code MyConfiguration::getConnState}
     */
    public ConnStateBundle(Function<T, ConnStateFactory> settings)
    {
        this.settings = settings;
    }

    /**
     * Called by Dropwizard once it read and validated the configuration, before it builds the
     * server: registers the gauges and the server listener that assembles the tracker.
     */
    @Override
    public void run(T configuration, Environment environment)
    {
        ModuleSettings checked;
        try
        {
            checked = settings.apply(configuration).settings();
        }
        catch (ConnStateConfigurationException x)
        {
            // Validated when the YAML was read, unless the application's field lacks @Valid.
            throw refusal(x);
        }
        registerGauges(environment.metrics());
        environment.lifecycle().addEventListener(new Assembler(checked));
    }

    private void registerGauges(MetricRegistry metrics)
    {
        for (ConnState state : List.of(ConnState.NEW, ConnState.ACTIVE, ConnState.IDLE))
            gauge(metrics, "connections." + state.toString(), t -> t.countConnections(state));
        gauge(metrics, "connections.opened", ConnStateTracker::getOpenedTotal);
        gauge(metrics, "connections.closed", ConnStateTracker::getClosedTotal);
        gauge(metrics, "connections.hijacked", ConnStateTracker::getHijackedTotal);
        gauge(metrics, "requests", ConnStateTracker::getRequestsTotal);
    }

    private void gauge(MetricRegistry metrics, String name, Function<ConnStateTracker, Long> read)
    {
        metrics.register(MetricRegistry.name(METRICS_PREFIX, name), (Gauge<Long>)() ->
        {
            ConnStateTracker running = tracker;
            return running == null ? 0L : read.apply(running);
        });
    }

    /**
     * @param refused what the module's checks refused
     * @return the refusal under the YAML field's name, one line
     */
    private static IllegalStateException refusal(ConnStateConfigurationException refused)
    {
        IllegalStateException x = new IllegalStateException("connstate." + ConnStateFactory.field(refused) + " " + ConnStateFactory.problem(refused));
        x.setStackTrace(new StackTraceElement[0]);
        return x;
    }

    /**
     * @return the tracker while Dropwizard's server runs, for more listeners or its counts;
     * {@code null} before
     */
    public ConnStateTracker getTracker()
    {
        return tracker;
    }

    /** Assembles the tracker when Dropwizard's server starts, and takes it apart when it stopped. */
    private final class Assembler implements LifeCycle.Listener
    {
        private final ModuleSettings checked;
        private TrackerAssembly assembly;

        private Assembler(ModuleSettings checked)
        {
            this.checked = checked;
        }

        @Override
        public void lifeCycleStarting(LifeCycle event)
        {
            Server server = (Server)event;
            ConnStateTracker made = new ConnStateTracker(server);
            TrackerAssembly started = new TrackerAssembly(made, checked);
            // The tracker's own look at the handler chain waits for the next start: this one began.
            started.beforeHandlersStart(server);
            try
            {
                started.addListeners(List.of(), List.of("Dropwizard's metrics (" + METRICS_PREFIX + ".*)"));
            }
            catch (ConnStateConfigurationException x)
            {
                throw refusal(x);
            }
            server.addBean(made);
            assembly = started;
            tracker = made;
            started.logReporting();
        }

        @Override
        public void lifeCycleStopped(LifeCycle event)
        {
            Server server = (Server)event;
            if (tracker != null)
                server.removeBean(tracker);
            tracker = null;
            if (assembly != null)
                assembly.close(false);
            assembly = null;
        }
    }
}
