package dev.connstate.micrometer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.ReaderAccess;
import dev.connstate.jetty.ReaderEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves a tracker's connection metrics as Prometheus text at one path (e.g. {@code /metrics}),
 * from a Micrometer {@link PrometheusMeterRegistry} that a {@link ConnStateMeterBinder} fills, to
 * loopback clients and an allow list ({@link ReaderAccess}); others get 403.
 *
 * <pre>{@code
 * ConnStatePrometheusHandler metrics = new ConnStatePrometheusHandler(tracker, "/metrics", "10.0.0.0/8");
 * server.insertHandler(metrics);   // in front of the application's handler
 * }</pre>
 *
 * <p>The format follows the scraper's {@code Accept} header as Micrometer's registry negotiates it
 * ({@link PrometheusMeterRegistry#scrape(java.io.OutputStream, String)}): the Prometheus text
 * format 0.0.4 by default, OpenMetrics text or protobuf when asked; never cached
 * ({@code Cache-Control: no-store}). Made with a tracker, it binds the metrics when it starts and
 * removes them when it stops; made with a registry, it serves that registry as it is.</p>
 */
public class ConnStatePrometheusHandler extends ReaderEndpoint
{
    private final ConnStateTracker tracker;
    private final PrometheusMeterRegistry registry;
    private final ExpositionFormats formats = ExpositionFormats.init();
    private ConnStateMeterBinder binder;

    /**
     * Serves {@code tracker}'s connection metrics, from a registry of its own.
     *
     * @param tracker the tracker whose connections to measure
     * @param path the exact path of the metrics, e.g. {@code /metrics}
     * @param allow addresses or ranges besides loopback that may read them, comma separated; may be empty
     * @throws IllegalArgumentException if the path is not one ({@link #checkPath(String)}) or an
     * allow entry is not an IP address, CIDR or range
     */
    public ConnStatePrometheusHandler(ConnStateTracker tracker, String path, String allow)
    {
        this(tracker, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), path, allow);
    }

    /**
     * Serves {@code registry} as it is: bind a {@link ConnStateMeterBinder} (and any other
     * binder) to it yourself.
     *
     * @param registry the registry to serve
     * @param path the exact path of the metrics, e.g. {@code /metrics}
     * @param allow addresses or ranges besides loopback that may read them, comma separated; may be empty
     * @throws IllegalArgumentException if the path is not one ({@link #checkPath(String)}) or an
     * allow entry is not an IP address, CIDR or range
     */
    public ConnStatePrometheusHandler(PrometheusMeterRegistry registry, String path, String allow)
    {
        this(null, registry, path, allow);
    }

    private ConnStatePrometheusHandler(ConnStateTracker tracker, PrometheusMeterRegistry registry, String path, String allow)
    {
        super(checked(path), allow);
        this.tracker = tracker;
        this.registry = registry;
    }

    private static String checked(String path)
    {
        String problem = checkPath(path);
        if (problem != null)
            throw new IllegalArgumentException("The metrics path " + problem + ": '" + path + "'");
        return path;
    }

    /**
     * @param path a path to serve the metrics at
     * @return what is wrong with it, or {@code null} if it is a path: it starts with {@code /} and
     * holds no query, fragment, space or control character
     */
    public static String checkPath(String path)
    {
        if (path == null || !path.startsWith("/"))
            return "must start with '/'";
        for (int i = 0; i < path.length(); i++)
        {
            char c = path.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '?' || c == '#')
                return "must not hold '?', '#', spaces or control characters";
        }
        return null;
    }

    /**
     * @return the tracker whose metrics this binds, {@code null} if it serves a registry it was given
     */
    public ConnStateTracker getTracker()
    {
        return tracker;
    }

    /**
     * @return the registry it serves: more binders may be bound to it
     */
    public PrometheusMeterRegistry getRegistry()
    {
        return registry;
    }

    @Override
    protected void doStart() throws Exception
    {
        if (tracker != null)
        {
            binder = new ConnStateMeterBinder(tracker);
            binder.bindTo(registry);
        }
        super.doStart();
    }

    @Override
    protected void doStop() throws Exception
    {
        super.doStop();
        if (binder != null)
            binder.close();
        binder = null;
    }

    @Override
    protected void serve(Request request, Response response, Callback callback) throws Exception
    {
        String accept = request.getHeaders().get(HttpHeader.ACCEPT);
        ByteArrayOutputStream scrape = new ByteArrayOutputStream(16 * 1024);
        registry.scrape(scrape, accept);
        // The writer the registry picked for this Accept header: the same choice, made again for its name.
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, formats.findWriter(accept).getContentType());
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(scrape.toByteArray()), callback);
    }
}
