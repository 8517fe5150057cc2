package dev.connstate.config;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.micrometer.ConnStatePrometheusHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code connstate-prometheus} Jetty module as a bean: serves the {@code connstate} module's
 * connection metrics as Prometheus text at {@value #PATH} (default {@value #DEFAULT_PATH}), to
 * loopback clients and {@code jetty.connstate.status.allow}, through a
 * {@link ConnStatePrometheusHandler} put in front of the server's handler when the server starts.
 *
 * <p>{@code etc/jetty-connstate-prometheus.xml} makes it from the {@code connstate} module's bean.
 * Only that XML names this class, so without the module nothing of Micrometer is loaded; with it,
 * the module's {@code [files]} bring Micrometer and its Prometheus registry into
 * {@code lib/connstate/prometheus/}. A path that cannot work, or the registry missing, stops the
 * start with one line naming the property and the value.</p>
 */
public class ConnStatePrometheusModule
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnStatePrometheusModule.class);
    /** The module's property: the path of the metrics. */
    public static final String PATH = ModuleSettings.PREFIX + "prometheus.path";
    /** Where the metrics are served unless {@value #PATH} says otherwise. */
    public static final String DEFAULT_PATH = "/metrics";

    private final ConnStateModule module;
    private String path = DEFAULT_PATH;

    /**
     * @param server the server whose connections the {@code connstate} module tracks
     * @param module the {@code connstate} module's bean
     */
    public ConnStatePrometheusModule(@Name("server") Server server, @Name("module") ConnStateModule module)
    {
        this.module = module;
        // Registered after the connstate module's own listener (its XML ran first), which checked
        // the settings, the allow list among them, and put the connection table in.
        server.addEventListener(new LifeCycle.Listener()
        {
            @Override
            public void lifeCycleStarting(LifeCycle event)
            {
                ConnStateModule.refusalLogged(() -> install(server));
            }
        });
    }

    /**
     * @return the path of the metrics
     */
    public String getPath()
    {
        return path;
    }

    /**
     * @param path the exact path of the metrics; {@code null} for {@value #DEFAULT_PATH}. It is
     * checked when the server starts.
     */
    public void setPath(String path)
    {
        this.path = path == null ? DEFAULT_PATH : path.trim();
    }

    private Boolean install(Server server)
    {
        try
        {
            return insert(server);
        }
        catch (LinkageError x)
        {
            // The handler's class needs Micrometer's as soon as it is linked, for its path check too.
            throw new ConnStateConfigurationException(PATH, path, "Micrometer's Prometheus registry is not on the server's class path (" + x +
                "): java -jar $JETTY_HOME/start.jar --add-modules=connstate-prometheus fetches it into $JETTY_BASE/lib/connstate/prometheus/");
        }
    }

    private boolean insert(Server server)
    {
        String problem = ConnStatePrometheusHandler.checkPath(path);
        if (problem != null)
            throw new ConnStateConfigurationException(PATH, path, "the metrics path " + problem + ", e.g. " + DEFAULT_PATH);
        if (path.equals(module.getStatusPath()))
            throw new ConnStateConfigurationException(PATH, path, "the connection table's path (" + ModuleSettings.STATUS_PATH + "): give them different paths");
        ConnStateTracker tracker = module.getTracker();
        // The connstate module checked the allow list already.
        String allow = module.getStatusAllow();
        boolean inserted = HandlerInsertion.insertOnce(server, ConnStatePrometheusHandler.class, metrics -> metrics.getTracker() == tracker,
            () -> new ConnStatePrometheusHandler(tracker, path, allow));
        if (inserted)
            LOG.info("Serving the connection metrics as Prometheus text at {} to loopback{}", path, allow.isEmpty() ? "" : " and " + allow);
        return inserted;
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{path=%s}", getClass().getSimpleName(), hashCode(), path);
    }
}
