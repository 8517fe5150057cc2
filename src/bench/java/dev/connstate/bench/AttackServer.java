package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * One embedded Jetty 12.1 that {@link AttackBench} attacks, in a JVM of its own whose
 * file-descriptor limit the bench sets ({@code bash -c "ulimit -n N; exec java ..."}).
 *
 * <p>{@code java dev.connstate.bench.AttackServer VARIANT IDLE_MILLIS ACCEPT_QUEUE ATTACKER
 * HEADER_TIMEOUT_MILLIS MAX_CONNECTIONS MAX_NEW EXEMPT}, VARIANT one of</p>
 * <ul>
 *   <li>{@code plain}: Jetty alone (the last four arguments are ignored);</li>
 *   <li>{@code protected}: Jetty with a {@link ConnStateTracker} whose request header timeout is
 *   HEADER_TIMEOUT_MILLIS and whose caps per client address are MAX_CONNECTIONS open and MAX_NEW
 *   new, EXEMPT exempt ({@code -} for none).</li>
 * </ul>
 *
 * <p>One HTTP/1.1 connector on 127.0.0.1 (free port), idle timeout IDLE_MILLIS (Jetty's default
 * is 30 s), accept queue ACCEPT_QUEUE (0: Jetty's default, the JDK's backlog of 50), the
 * {@link BenchServer.Hello} handler. It prints {@code READY port} and answers commands on
 * standard input, one line each:</p>
 * <ul>
 *   <li>{@code stats}: {@code STATS rejected requestHeaderTimeout clientLimit otherAttackCloses endPoints}:
 *   the tracker's {@code getRejectedConnections()}, the closes of connections from ATTACKER by
 *   reason (all -1 without a tracker), and the connector's open end points;</li>
 *   <li>{@code closes}: a line per connection from ATTACKER that the tracker reported closed,
 *   {@code CLOSE clientPort closedNanos ageNanos reason}, then {@code END} (none without a
 *   tracker): the server's own account of when it accepted and closed each one, on the
 *   monotonic clock every JVM on Linux shares;</li>
 *   <li>{@code quit}: exits at once.</li>
 * </ul>
 */
public final class AttackServer
{
    /** A connection from the attacker, as the tracker reported its close. */
    private record Closed(int port, long closedNanos, long ageNanos, String reason)
    {
    }

    private AttackServer()
    {
    }

    public static void main(String[] args) throws Exception
    {
        String variant = args[0];
        long idleMillis = Long.parseLong(args[1]);
        int acceptQueue = Integer.parseInt(args[2]);
        InetAddress attacker = InetAddress.getByName(args[3]);

        Server server = new Server();
        ServerConnector connector = BenchServer.http1Connector(server, idleMillis, acceptQueue);
        server.setHandler(new BenchServer.Hello());

        ConnStateTracker tracker = null;
        ConcurrentLinkedQueue<Closed> closes = new ConcurrentLinkedQueue<>();
        Map<String, LongAdder> reasons = new ConcurrentHashMap<>();
        switch (variant)
        {
            case "plain" -> { }
            case "protected" ->
            {
                tracker = new ConnStateTracker(server);
                tracker.getRequestHeaderTimeout().setTimeoutMillis(Long.parseLong(args[4]));
                tracker.getClientLimits().setMaxConnections(Integer.parseInt(args[5]));
                tracker.getClientLimits().setMaxNew(Integer.parseInt(args[6]));
                tracker.getClientLimits().setExempt("-".equals(args[7]) ? "" : args[7]);
                // In memory only, on the reporting thread: the attacker's closes, with the tracker's age (accept to close).
                tracker.addInlineListener((conn, state) ->
                {
                    if (state != ConnState.CLOSED || !(conn.remote() instanceof InetSocketAddress remote) || !attacker.equals(remote.getAddress()))
                        return;
                    String reason = String.valueOf(conn.reason());
                    closes.add(new Closed(remote.getPort(), System.nanoTime(), conn.ageNanos(), reason));
                    reasons.computeIfAbsent(reason, r -> new LongAdder()).increment();
                });
                server.addBean(tracker);
            }
            default -> throw new IllegalArgumentException("Unknown variant " + variant + " (plain, protected)");
        }
        server.start();
        PrintStream out = System.out;
        out.println("READY " + connector.getLocalPort());
        out.flush();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null)
        {
            switch (line.trim())
            {
                case "stats" ->
                {
                    boolean tracked = tracker != null;
                    long timedOut = count(reasons, CloseReason.REQUEST_HEADER_TIMEOUT.toString());
                    long capped = count(reasons, CloseReason.CLIENT_LIMIT.toString());
                    long all = reasons.values().stream().mapToLong(LongAdder::sum).sum();
                    out.println("STATS " + (tracked ? tracker.getRejectedConnections() : -1)
                        + " " + (tracked ? timedOut : -1)
                        + " " + (tracked ? capped : -1)
                        + " " + (tracked ? all - timedOut - capped : -1)
                        + " " + connector.getConnectedEndPoints().size());
                }
                case "closes" ->
                {
                    StringBuilder text = new StringBuilder();
                    for (Closed c : closes)
                        text.append("CLOSE ").append(c.port()).append(' ').append(c.closedNanos()).append(' ').append(c.ageNanos()).append(' ').append(c.reason()).append('\n');
                    text.append("END");
                    out.println(text);
                }
                case "quit" ->
                {
                    out.println("BYE");
                    out.flush();
                    System.exit(0);
                }
                default -> out.println("ERROR unknown command " + line);
            }
            out.flush();
        }
        System.exit(0);
    }

    private static long count(Map<String, LongAdder> reasons, String reason)
    {
        LongAdder adder = reasons.get(reason);
        return adder == null ? 0 : adder.sum();
    }
}
