package dev.connstate.bench;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * One embedded Jetty 12.1 that {@link DrainBench} loads and then stops with a SIGTERM, in a JVM
 * of its own: Jetty's shutdown hook ({@code stopAtShutdown}) runs the graceful stop.
 *
 * <p>{@code java dev.connstate.bench.DrainServer VARIANT WORK_MILLIS}, VARIANT one of</p>
 * <ul>
 *   <li>{@code graceful}: plain Jetty with the {@link GracefulHandler} that Jetty's
 *   {@code graceful} module inserts, no tracker;</li>
 *   <li>{@code drain}: Jetty with a {@link ConnStateTracker}, its drain on (the default), no
 *   GracefulHandler.</li>
 * </ul>
 * <p>Both have the same connector (127.0.0.1, free port, HTTP/1.1 + h2c), handler and stop
 * timeout ({@value #STOP_TIMEOUT_MILLIS} ms). It prints {@code READY port} once started; its log
 * (jetty-slf4j-impl, standard error) says when the connector shut down
 * ({@code CONNECTOR_SHUTDOWN_NANOS}) and, with the drain, the drain's summary line.</p>
 */
public final class DrainServer
{
    static final long STOP_TIMEOUT_MILLIS = 10_000;
    /** The response body's length; the handler writes it in two halves, with work before each. */
    static final int BODY_BYTES = 2048;
    /** The response header that says when the response was committed ({@link System#nanoTime()}). */
    static final String COMMIT_NANOS = "X-Commit-Nanos";

    private DrainServer()
    {
    }

    public static void main(String[] args) throws Exception
    {
        String variant = args[0];
        long workMillis = Long.parseLong(args[1]);

        Server server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        ServerConnector connector = new ClockedConnector(server, new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        Handler handler = new Halves(workMillis);
        switch (variant)
        {
            case "graceful" -> server.setHandler(new GracefulHandler(handler));
            case "drain" ->
            {
                server.setHandler(handler);
                server.addBean(new ConnStateTracker(server));
            }
            default -> throw new IllegalArgumentException("Unknown variant " + variant + " (graceful, drain)");
        }
        server.setStopTimeout(STOP_TIMEOUT_MILLIS);
        // A SIGTERM runs Jetty's graceful stop (Server.doStop: every Graceful bean, then the connectors).
        server.setStopAtShutdown(true);
        server.start();
        System.out.println("READY " + connector.getLocalPort());
        System.out.flush();
        server.join();
    }

    /**
     * A {@link ServerConnector} that says when it shut down: from then on Jetty answers
     * {@code Connection: close}, and closes after a response committed before. Its first
     * {@link #shutdown()} (the drain's, or Jetty's graceful stop's) prints
     * {@code CONNECTOR_SHUTDOWN_NANOS} {@link System#nanoTime()} to the log as it begins and as it
     * returns (closing the listening socket and turning shut down take milliseconds at times on
     * a busy machine): a response that ended before the first was done before the shutdown, one
     * committed after the second was committed by a shut down connector. On Linux every JVM reads
     * the same monotonic clock, so {@link DrainBench} can place its clients' events around them.
     */
    private static final class ClockedConnector extends ServerConnector
    {
        private final AtomicBoolean told = new AtomicBoolean();

        private ClockedConnector(Server server, ConnectionFactory... factories)
        {
            super(server, factories);
        }

        @Override
        public CompletableFuture<Void> shutdown()
        {
            boolean first = told.compareAndSet(false, true);
            long began = System.nanoTime();
            CompletableFuture<Void> done = super.shutdown();
            if (first)
                System.err.println("CONNECTOR_SHUTDOWN_NANOS " + began + " " + System.nanoTime());
            return done;
        }
    }

    /**
     * Answers {@value #BODY_BYTES} bytes in two writes: the head and first half after
     * {@code workMillis}, the second half {@code workMillis} later, so that a stop finds requests
     * both before their response is committed and in the middle of their body. The head says when
     * it was committed ({@value #COMMIT_NANOS}). It waits on Jetty's scheduler, not on a pool thread.
     */
    private static final class Halves extends Handler.Abstract.NonBlocking
    {
        private final long workMillis;
        private final byte[] half = new byte[BODY_BYTES / 2];

        private Halves(long workMillis)
        {
            this.workMillis = workMillis;
            Arrays.fill(half, (byte)'x');
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            Scheduler scheduler = request.getComponents().getScheduler();
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, BODY_BYTES);
            Callback last = Callback.from(() -> scheduler.schedule(() -> response.write(true, ByteBuffer.wrap(half), callback), workMillis, TimeUnit.MILLISECONDS), callback::failed);
            scheduler.schedule(() ->
            {
                // The first write commits the response: when, on the clock every JVM here shares.
                response.getHeaders().put(COMMIT_NANOS, System.nanoTime());
                response.write(false, ByteBuffer.wrap(half), last);
            }, workMillis, TimeUnit.MILLISECONDS);
            return true;
        }
    }
}
