package dev.connstate.jetty;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves the live connection table at one path, in the format the request asks for
 * ({@link StatusQuery}): JSON (counts per state and one row per tracked connection,
 * {@link StatusJson}), an HTML page for browsers ({@link StatusPage}), or nginx's
 * {@code stub_status} text ({@link StubStatus}). Its own request is tracked like any other, so the
 * table shows the connection asking for it as {@code active}.
 *
 * <p>Only loopback clients and the allow list get any of them ({@link ReaderAccess}); others get
 * 403. A query that cannot be served (an unknown format, a bad refresh) gets 400 and one line
 * naming the parameter and the value. Each state shows at most {@code maxRows} rows, those longest
 * in it. Everything is read and written on the thread of the status request, when one comes:
 * other requests only pass through.</p>
 */
public class ConnStateStatusHandler extends ReaderEndpoint
{
    /** The default of the rows shown per state at most. */
    public static final int DEFAULT_MAX_ROWS = 1000;
    /** The largest bound of rows per state. */
    public static final int MAX_MAX_ROWS = 1_000_000;

    private static final String TEXT = "text/plain;charset=utf-8";
    private static final String CONTENT_SECURITY_POLICY = "Content-Security-Policy";
    private static final String REFRESH = "Refresh";
    private static final String CONTENT_TYPE_OPTIONS = "X-Content-Type-Options";

    private final ConnStateTracker tracker;
    private final int maxRows;

    /**
     * A table of at most {@value #DEFAULT_MAX_ROWS} rows per state.
     *
     * @param tracker the tracker whose table to serve
     * @param path the exact path of the table, e.g. {@code /connstate}
     * @param allow addresses or ranges besides loopback that may read the table, comma separated; may be empty
     * @throws IllegalArgumentException if the path does not start with {@code /} or an allow entry is not an IP address, CIDR or range
     */
    public ConnStateStatusHandler(ConnStateTracker tracker, String path, String allow)
    {
        this(tracker, path, allow, DEFAULT_MAX_ROWS);
    }

    /**
     * @param tracker the tracker whose table to serve
     * @param path the exact path of the table, e.g. {@code /connstate}
     * @param allow addresses or ranges besides loopback that may read the table, comma separated; may be empty
     * @param maxRows how many rows each state shows at most, 1 to {@value #MAX_MAX_ROWS}: above it,
     * those longest in the state, and the table says it cut rows
     * @throws IllegalArgumentException if the path does not start with {@code /}, an allow entry is
     * not an IP address, CIDR or range, or {@code maxRows} is out of its range
     */
    public ConnStateStatusHandler(ConnStateTracker tracker, String path, String allow, int maxRows)
    {
        super(checked(path), allow);
        if (maxRows < 1 || maxRows > MAX_MAX_ROWS)
            throw new IllegalArgumentException("The rows per state must be between 1 and " + MAX_MAX_ROWS + ": " + maxRows);
        this.tracker = tracker;
        this.maxRows = maxRows;
    }

    private static String checked(String path)
    {
        if (path == null || !path.startsWith("/"))
            throw new IllegalArgumentException("The status path must start with '/': '" + path + "'");
        return path;
    }

    /**
     * @return the tracker whose table this serves
     */
    public ConnStateTracker getTracker()
    {
        return tracker;
    }

    /**
     * @return how many rows each state shows at most
     */
    public int getMaxRows()
    {
        return maxRows;
    }

    @Override
    protected void serve(Request request, Response response, Callback callback)
    {
        StatusQuery query;
        try
        {
            query = StatusQuery.of(request);
        }
        catch (IllegalArgumentException x)
        {
            response.setStatus(HttpStatus.BAD_REQUEST_400);
            write(response, callback, TEXT, x.getMessage() + "\n");
            return;
        }
        StatusSnapshot snapshot = StatusSnapshot.take(tracker, maxRows);
        // The answer depends on Accept when no format is forced.
        response.getHeaders().put(HttpHeader.VARY, HttpHeader.ACCEPT.asString());
        switch (query.format())
        {
            case HTML ->
            {
                response.getHeaders().put(CONTENT_SECURITY_POLICY, StatusPage.CONTENT_SECURITY_POLICY);
                if (query.refreshSeconds() > 0)
                    response.getHeaders().put(REFRESH, String.valueOf(query.refreshSeconds()));
                write(response, callback, StatusPage.CONTENT_TYPE, StatusPage.render(snapshot, query.refreshSeconds()));
            }
            case STUB_STATUS -> write(response, callback, StubStatus.CONTENT_TYPE, StubStatus.write(snapshot));
            default -> write(response, callback, "application/json", StatusJson.write(snapshot).toByteBuffer());
        }
    }

    private static void write(Response response, Callback callback, String contentType, String body)
    {
        write(response, callback, contentType, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
    }

    /** Every answer of the path: never cached, never sniffed as another type. */
    private static void write(Response response, Callback callback, String contentType, ByteBuffer body)
    {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(CONTENT_TYPE_OPTIONS, "nosniff");
        response.write(true, body, callback);
    }

    /**
     * @return the table as JSON, at most {@link #getMaxRows()} rows per state
     */
    public String table()
    {
        return StatusJson.write(StatusSnapshot.take(tracker, maxRows)).toString();
    }
}
