package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * One embedded Jetty 12.1 whose keep-alive connections {@link KeepAliveRaceBench} reuses around
 * the server's keep-alive timeout, in a JVM of its own.
 *
 * <p>{@code java dev.connstate.bench.KeepAliveServer VARIANT IDLE_MILLIS KEEP_ALIVE_MILLIS}, VARIANT one of</p>
 * <ul>
 *   <li>{@code plain}: Jetty alone (KEEP_ALIVE_MILLIS must be 0): the connector's idle timeout
 *   closes idle connections, and nothing counts the requests that race the close;</li>
 *   <li>{@code module-at-idle}, {@code module-above}: Jetty with a {@link ConnStateTracker} whose
 *   keep-alive timeout is KEEP_ALIVE_MILLIS ({@code tracker.getKeepAlive().setTimeoutMillis}); the
 *   bench gives the connector's idle timeout, and a timeout above the clients' longest gap.</li>
 * </ul>
 *
 * <p>One connector on 127.0.0.1 (free port), HTTP/1.1, idle timeout IDLE_MILLIS; the
 * {@link BenchServer.Hello} handler. It prints {@code READY port} and answers commands on
 * standard input, one line each:</p>
 * <ul>
 *   <li>{@code stats}: {@code STATS handled races flagged keepAliveTimeout idleTimeout remoteClose other}:
 *   requests the handler ran; the tracker's {@code getKeepAliveRaces()} (-1 without a tracker);
 *   closed connections whose {@code race()} was set; closed connections by reason, as the tracker
 *   reported them (all -1 without a tracker);</li>
 *   <li>{@code quit}: exits at once (no graceful stop: the figures are read before).</li>
 * </ul>
 * <p>Its log (standard error) has a line per closed connection, {@code CLOSED clientPort nanos
 * reason race requests idleNanos}: from the tracker's {@code closed} with a tracker, from a
 * {@link Connection.Listener} on the connector without.</p>
 */
public final class KeepAliveServer
{
    private KeepAliveServer()
    {
    }

    public static void main(String[] args) throws Exception
    {
        String variant = args[0];
        long idleMillis = Long.parseLong(args[1]);
        long keepAliveMillis = Long.parseLong(args[2]);

        Server server = new Server();
        ServerConnector connector = BenchServer.http1Connector(server, idleMillis, 1024);
        Handled handled = new Handled(new BenchServer.Hello());
        server.setHandler(handled);

        ConnStateTracker tracker = null;
        LongAdder flagged = new LongAdder();
        LongAdder[] closes = new LongAdder[CloseReason.values().length + 1];
        for (int i = 0; i < closes.length; i++)
            closes[i] = new LongAdder();
        switch (variant)
        {
            case "plain" ->
            {
                if (keepAliveMillis != 0)
                    throw new IllegalArgumentException("plain has no keep-alive timeout of its own: give 0, not " + keepAliveMillis);
                // A closed socket no longer has a remote address: taken when it opens.
                Map<Connection, SocketAddress> remotes = new ConcurrentHashMap<>();
                connector.addEventListener(new Connection.Listener()
                {
                    @Override
                    public void onOpened(Connection connection)
                    {
                        remotes.put(connection, connection.getEndPoint().getRemoteSocketAddress());
                    }

                    @Override
                    public void onClosed(Connection connection)
                    {
                        closed(remotes.remove(connection), "-", "-", connection.getMessagesIn(), -1);
                    }
                });
            }
            case "module-at-idle", "module-above" ->
            {
                tracker = new ConnStateTracker(server);
                tracker.getKeepAlive().setTimeoutMillis(keepAliveMillis);
                // The tracker's own account of every close: its reason, and whether a request raced it.
                tracker.addInlineListener((conn, state) ->
                {
                    if (state != ConnState.CLOSED)
                        return;
                    CloseReason reason = conn.reason();
                    closes[reason == null ? closes.length - 1 : reason.ordinal()].increment();
                    if (conn.race())
                        flagged.increment();
                    closed(conn.remote(), String.valueOf(reason), String.valueOf(conn.race()), conn.requests(), conn.previousNanos());
                });
                server.addBean(tracker);
            }
            default -> throw new IllegalArgumentException("Unknown variant " + variant + " (plain, module-at-idle, module-above)");
        }
        server.start();
        System.out.println("READY " + connector.getLocalPort());
        System.out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null)
        {
            switch (line.trim())
            {
                case "stats" ->
                {
                    long other = 0;
                    for (CloseReason reason : CloseReason.values())
                    {
                        if (reason != CloseReason.KEEP_ALIVE_TIMEOUT && reason != CloseReason.IDLE_TIMEOUT && reason != CloseReason.REMOTE_CLOSE)
                            other += closes[reason.ordinal()].sum();
                    }
                    other += closes[closes.length - 1].sum();
                    boolean tracked = tracker != null;
                    System.out.println("STATS " + handled.requests.sum()
                        + " " + (tracked ? tracker.getKeepAliveRaces() : -1)
                        + " " + (tracked ? flagged.sum() : -1)
                        + " " + (tracked ? closes[CloseReason.KEEP_ALIVE_TIMEOUT.ordinal()].sum() : -1)
                        + " " + (tracked ? closes[CloseReason.IDLE_TIMEOUT.ordinal()].sum() : -1)
                        + " " + (tracked ? closes[CloseReason.REMOTE_CLOSE.ordinal()].sum() : -1)
                        + " " + (tracked ? other : -1));
                }
                case "quit" ->
                {
                    System.out.println("BYE");
                    System.out.flush();
                    System.exit(0);
                }
                default -> System.out.println("ERROR unknown command " + line);
            }
            System.out.flush();
        }
        System.exit(0);
    }

    /**
     * Logs a connection's close, on the clock that every JVM here shares ({@link System#nanoTime()}
     * on Linux): {@code CLOSED clientPort nanos reason race requests idleNanos} ({@code -} where
     * plain Jetty cannot tell), for the bench to place its clients' failures.
     */
    private static void closed(SocketAddress remote, String reason, String race, long requests, long idleNanos)
    {
        long now = System.nanoTime();
        int port = remote instanceof InetSocketAddress address ? address.getPort() : -1;
        System.err.println("CLOSED " + port + " " + now + " " + reason + " " + race + " " + requests + " " + idleNanos);
    }

    /** Counts the requests its handler ran: a request refused by a race never gets here. */
    private static final class Handled extends Handler.Wrapper
    {
        private final LongAdder requests = new LongAdder();

        private Handled(Handler handler)
        {
            super(handler);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception
        {
            requests.increment();
            return super.handle(request, response, callback);
        }
    }
}
