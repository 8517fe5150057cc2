package dev.connstate.spring;

import java.util.Map;

import dev.connstate.jetty.ConnStateStatusHandler;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The actuator endpoint {@code connstate}: the counts and the connection table, the very JSON of
 * the module's table ({@link ConnStateStatusHandler}, at most {@code connstate.status.max-rows} rows
 * per state), and {@code closeIdleConnections} as a write
 * operation. Boot exposes it as it exposes any endpoint: over HTTP only when
 * {@code management.endpoints.web.exposure.include} names it.
 */
@Endpoint(id = "connstate")
public class ConnStateEndpoint
{
    private final ConnStateServerCustomizer jetty;
    private ConnStateStatusHandler table;

    /**
     * @param jetty the owner of the tracker
     */
    public ConnStateEndpoint(ConnStateServerCustomizer jetty)
    {
        this.jetty = jetty;
    }

    /**
     * {@code GET /actuator/connstate}: {@code {"time":...,"counts":{"new":N,"active":N,"idle":N},"shownPerState":N,"truncated":false,"connections":[...]}},
     * one row per open connection, the one asking included (as {@code active}).
     *
     * @return the table as JSON text, written by the module's table
     */
    @ReadOperation(produces = "application/json")
    public String connections()
    {
        return table().table();
    }

    /**
     * {@code POST /actuator/connstate}: closes every connection idle now, as Go's
     * {@code Server.Shutdown} does first.
     *
     * @return {@code {"closed": N}}
     */
    @WriteOperation
    public Map<String, Integer> closeIdleConnections()
    {
        return Map.of("closed", jetty.tracker().closeIdleConnections());
    }

    private synchronized ConnStateStatusHandler table()
    {
        // The handler is never in a server: only its writer of the table is used.
        if (table == null)
            table = new ConnStateStatusHandler(jetty.tracker(), "/actuator/connstate", "", jetty.settings().statusMaxRows());
        return table;
    }
}
