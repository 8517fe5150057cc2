package dev.connstate.jetty;

import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.sink.Json;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves the live connection table as JSON at one path: counts per state and one row per
 * tracked connection. Its own request is tracked like any other, so the table shows the
 * connection asking for it as {@code active}.
 *
 * <p>Only loopback clients and the allow list get the table ({@link ReaderAccess}); others get 403.</p>
 */
public class ConnStateStatusHandler extends Handler.Wrapper
{
    private final ConnStateTracker tracker;
    private final String path;
    private final ReaderAccess access;

    /**
     * @param tracker the tracker whose table to serve
     * @param path the exact path of the table, e.g. {@code /connstate}
     * @param allow addresses or ranges besides loopback that may read the table, comma separated; may be empty
     * @throws IllegalArgumentException if the path does not start with {@code /} or an allow entry is not an IP address, CIDR or range
     */
    public ConnStateStatusHandler(ConnStateTracker tracker, String path, String allow)
    {
        if (path == null || !path.startsWith("/"))
            throw new IllegalArgumentException("The status path must start with '/': '" + path + "'");
        this.tracker = tracker;
        this.path = path;
        this.access = new ReaderAccess(allow);
    }

    /**
     * @return the tracker whose table this serves
     */
    public ConnStateTracker getTracker()
    {
        return tracker;
    }

    /**
     * @return the path the table is served at
     */
    public String getPath()
    {
        return path;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception
    {
        if (!path.equals(Request.getPathInContext(request)))
            return super.handle(request, response, callback);
        if (!access.admit(request, response, callback))
            return true;
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, writeTable().toByteBuffer(), callback);
        return true;
    }

    boolean isAllowed(SocketAddress peer)
    {
        return access.isAllowed(peer);
    }

    /**
     * @return the table as JSON
     */
    public String table()
    {
        return writeTable().toString();
    }

    /** The table, written in UTF-8. */
    private Json writeTable()
    {
        long now = System.currentTimeMillis();
        long nowNanos = System.nanoTime();
        List<ConnInfo> rows = new ArrayList<>();
        for (ConnInfo conn : tracker.getOpenConnections())
        {
            // Hijacked sockets are the application's, no longer the server's connections.
            if (!conn.state().isTerminal())
                rows.add(conn);
        }
        rows.sort(Comparator.comparingLong(ConnInfo::id));
        // The same writer as the jsonl sink's, and the same address texts.
        Json json = new Json(256 + rows.size() * 200);
        json.raw("{\"time\":").time(Instant.ofEpochMilli(now));
        json.raw(",\"counts\":{\"new\":").number(tracker.countConnections(ConnState.NEW));
        json.raw(",\"active\":").number(tracker.countConnections(ConnState.ACTIVE));
        json.raw(",\"idle\":").number(tracker.countConnections(ConnState.IDLE));
        json.raw("},\"connections\":[");
        boolean first = true;
        for (ConnInfo conn : rows)
        {
            json.raw(first ? "{\"id\":" : ",{\"id\":").number(conn.id());
            first = false;
            json.raw(",\"remote\":").string(conn.remoteAddress());
            json.raw(",\"local\":").string(conn.localAddress());
            json.raw(",\"protocol\":").string(conn.protocol());
            json.raw(",\"secure\":").bool(conn.secure());
            json.raw(",\"state\":").string(conn.state().toString());
            long stateMs = conn instanceof TrackedConnection tracked ? (nowNanos - tracked.sinceNanos()) / 1_000_000L : 0;
            json.raw(",\"stateMs\":").number(stateMs);
            json.raw(",\"ageMs\":").number(Math.max(0, now - conn.openedAtMillis()));
            json.raw(",\"requests\":").number(conn.requests());
            json.raw("}");
        }
        json.raw("]}");
        return json;
    }
}
