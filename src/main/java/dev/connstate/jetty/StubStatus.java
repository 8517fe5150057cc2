package dev.connstate.jetty;

import dev.connstate.ConnState;

/**
 * Writes nginx's {@code stub_status} text from a {@link StatusSnapshot}, byte for byte as
 * {@code ngx_http_stub_status_module.c} prints it (each number line ends with a space before its
 * newline, the third begins with one), so that collectors that read nginx read Jetty unchanged.
 *
 * <p>The mapping: {@code Active connections} the open connections ({@code new}, {@code active} and
 * {@code idle}); {@code accepts} and {@code handled} the connections opened since start (Jetty
 * drops none it accepted); {@code requests} the requests begun since start; {@code Reading} the
 * {@code new} connections, {@code Writing} the {@code active} ones, {@code Waiting} the
 * {@code idle} ones. Called on the status request's thread; stateless.</p>
 */
final class StubStatus
{
    /** nginx's content type, without a charset. */
    static final String CONTENT_TYPE = "text/plain";

    private StubStatus()
    {
    }

    /**
     * @return the four lines, in ASCII
     */
    static String write(StatusSnapshot snapshot)
    {
        long opened = snapshot.totals.opened();
        return "Active connections: " + snapshot.open() + " \n" +
            "server accepts handled requests\n" +
            " " + opened + " " + opened + " " + snapshot.totals.requests() + " \n" +
            "Reading: " + snapshot.counts.get(ConnState.NEW) +
            " Writing: " + snapshot.counts.get(ConnState.ACTIVE) +
            " Waiting: " + snapshot.counts.get(ConnState.IDLE) + " \n";
    }
}
