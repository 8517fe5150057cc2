package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.TlsInfo;

/**
 * One read of the tracker for a status request: the connections by state (at most a bound of rows
 * per state, the longest in their state), the oldest {@code new} and {@code idle}, the totals
 * since start, the keep-alive races and rejections, and the drain; every format of the status
 * path (JSON, the HTML page, stub_status) writes from one.
 *
 * <p>Taken on the thread of the status request, only when one comes: nothing of it is kept or
 * computed on any other request's path. Immutable once taken.</p>
 */
final class StatusSnapshot
{
    /** The states of a connection the server still owns, in the order every format lists them. */
    static final List<ConnState> OPEN_STATES = List.of(ConnState.NEW, ConnState.ACTIVE, ConnState.IDLE);

    /**
     * One connection as the status path shows it.
     *
     * @param id the connection's id
     * @param state {@code new}, {@code active} or {@code idle}
     * @param stateMillis how long it has been in {@code state}
     * @param ageMillis how long since its accept
     * @param requests the requests it began
     * @param protocol its application protocol, {@code unknown} before it is known
     * @param secure whether it is TLS
     * @param tls what its TLS handshake settled; {@code null} before it completed, or for plain connections
     * @param remote its client, as Go prints it (the PROXY protocol's where that is on)
     * @param local the server's address, as Go prints it
     */
    record Row(long id, ConnState state, long stateMillis, long ageMillis, long requests, String protocol, boolean secure, TlsInfo tls,
               String remote, String local)
    {
    }

    /** The totals since start. */
    record Totals(long opened, long closed, long hijacked, long requests, long keepAliveRaces, long rejected, long tlsHandshakeFailures)
    {
    }

    /**
     * The drain's state.
     *
     * @param enabled whether a graceful stop drains
     * @param draining whether a drain has begun
     * @param done whether the last drain is done
     * @param durationMillis how long the last drain took, so far if it runs
     * @param closedIdle connections it closed idle
     * @param finished connections that finished their request during it, then closed
     * @param closedNew connections it closed new, after the grace
     * @param forced connections still open at its deadline
     */
    record Drain(boolean enabled, boolean draining, boolean done, long durationMillis, long closedIdle, long finished, long closedNew,
                 long forced)
    {
    }

    final long timeMillis;
    final int maxRowsPerState;
    /** How many connections are in each open state. */
    final Map<ConnState, Integer> counts;
    /** The rows shown, by id: all of them, or the {@link #maxRowsPerState} longest in each state. */
    final List<Row> rows;
    /** The connection longest in {@code new}, {@code null} if none is. */
    final Row oldestNew;
    /** The connection longest in {@code idle}, {@code null} if none is. */
    final Row oldestIdle;
    final Totals totals;
    final Drain drain;

    private StatusSnapshot(long timeMillis, int maxRowsPerState, Map<ConnState, Integer> counts, List<Row> rows, Row oldestNew, Row oldestIdle,
                           Totals totals, Drain drain)
    {
        this.timeMillis = timeMillis;
        this.maxRowsPerState = maxRowsPerState;
        this.counts = counts;
        this.rows = rows;
        this.oldestNew = oldestNew;
        this.oldestIdle = oldestIdle;
        this.totals = totals;
        this.drain = drain;
    }

    /**
     * @param tracker the tracker to read
     * @param maxRowsPerState how many rows to keep per state at most: the longest in it
     * @return what the tracker holds now
     */
    static StatusSnapshot take(ConnStateTracker tracker, int maxRowsPerState)
    {
        long now = System.currentTimeMillis();
        long nowNanos = System.nanoTime();
        Map<ConnState, List<Row>> byState = new EnumMap<>(ConnState.class);
        for (ConnState state : OPEN_STATES)
            byState.put(state, new ArrayList<>());
        for (ConnInfo conn : tracker.getOpenConnections())
        {
            // Hijacked sockets are the application's, no longer the server's connections.
            List<Row> rows = byState.get(conn.state());
            if (rows == null)
                continue;
            long stateMillis = conn instanceof TrackedConnection tracked ? Math.max(0, (nowNanos - tracked.sinceNanos()) / 1_000_000L) : 0;
            rows.add(new Row(conn.id(), conn.state(), stateMillis, Math.max(0, now - conn.openedAtMillis()), conn.requests(), conn.protocol(),
                conn.secure(), conn.tls(), conn.remoteAddress(), conn.localAddress()));
        }
        Map<ConnState, Integer> counts = new EnumMap<>(ConnState.class);
        List<Row> shown = new ArrayList<>();
        // Longest in the state first; the older connection first among equals.
        Comparator<Row> longest = Comparator.comparingLong(Row::stateMillis).reversed().thenComparingLong(Row::id);
        for (ConnState state : OPEN_STATES)
        {
            List<Row> rows = byState.get(state);
            counts.put(state, rows.size());
            rows.sort(longest);
            shown.addAll(rows.size() > maxRowsPerState ? rows.subList(0, maxRowsPerState) : rows);
        }
        shown.sort(Comparator.comparingLong(Row::id));
        List<Row> news = byState.get(ConnState.NEW);
        List<Row> idles = byState.get(ConnState.IDLE);
        Totals totals = new Totals(tracker.getOpenedTotal(), tracker.getClosedTotal(), tracker.getHijackedTotal(), tracker.getRequestsTotal(),
            tracker.getKeepAliveRaces(), tracker.getRejectedConnections(), tracker.getTlsHandshakeFailures());
        ConnectionDrain d = tracker.getDrain();
        Drain drain = new Drain(d.isEnabled(), d.isDraining(), d.isDone(), d.getDurationMillis(), d.getClosedIdle(), d.getFinished(),
            d.getClosedNew(), d.getForced());
        return new StatusSnapshot(now, maxRowsPerState, counts, List.copyOf(shown), news.isEmpty() ? null : news.get(0),
            idles.isEmpty() ? null : idles.get(0), totals, drain);
    }

    /**
     * @return the open connections: {@code new}, {@code active} and {@code idle}
     */
    int open()
    {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * @return whether a state holds more connections than rows shown
     */
    boolean truncated()
    {
        return counts.values().stream().anyMatch(count -> count > maxRowsPerState);
    }
}
