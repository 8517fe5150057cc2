package dev.connstate.monitoring;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.Tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The load that makes every series the dashboard and the alert rules read, against a Jetty with
 * a clear-text port (the keep-alive timeout on, a cap of 2 new connections per client with
 * 127.0.0.1 and 127.0.0.2 exempt) and a TLS port: one {@link #round()} is keep-alive requests
 * closed by the client, a connection closed by the keep-alive timeout, a keep-alive race, a TLS
 * request closed by the server, plain text to the TLS port, a {@code CONNECT} tunnel, and a
 * client over its cap; {@link #silentClients} holds connections that send nothing.
 *
 * <p>A test says when the server has seen each step through its {@link Pace}: the load only
 * knows what a client sees.</p>
 */
public final class ScriptedLoad
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final String GET_CLOSE = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

    /** The steps after which a test waits for the server, the step's sockets still open. */
    public enum Step
    {
        /** A request was sent on a connection the server had begun to close. */
        RACED,
        /** The tunnel's {@code CONNECT} got its 200. */
        TUNNELLED,
        /** The capped client opened its first or second connection. */
        CAPPED_HELD,
        /** The capped client opened its third. */
        CAPPED_REFUSED,
        /** Every connection of the round is closed on the client's side. */
        ROUND_DONE
    }

    /** What a test waits for after each step. */
    public interface Pace
    {
        void after(Step step, List<Socket> sockets) throws Exception;
    }

    private final int port;
    private final int tlsPort;
    private final int tunnelPort;
    private final int status;
    private final Pace pace;

    /**
     * @param port the clear-text port
     * @param tlsPort the TLS port (the tests' certificate)
     * @param tunnelPort where the {@code CONNECT} tunnel goes
     * @param status the status of {@code GET /}
     * @param pace what to wait for after each step
     */
    public ScriptedLoad(int port, int tlsPort, int tunnelPort, int status, Pace pace)
    {
        this.port = port;
        this.tlsPort = tlsPort;
        this.tunnelPort = tunnelPort;
        this.status = status;
        this.pace = pace;
    }

    public void round() throws Exception
    {
        // Two requests on one connection, closed by the client: remote_close, 2 requests, an idle wait before a request.
        try (Socket keepAlive = Raw.connect(port))
        {
            for (int i = 0; i < 2; i++)
                get(keepAlive, GET);
        }
        // Left idle until the server's keep-alive timeout closes it: keep_alive_timeout.
        try (Socket idle = Raw.connect(port))
        {
            get(idle, GET);
            assertEquals(-1, idle.getInputStream().read(), "the server's FIN");
        }
        // A request sent after the server began to close: a keep-alive race.
        try (Socket racing = Raw.connect(port))
        {
            get(racing, GET);
            assertEquals(-1, racing.getInputStream().read(), "the server's FIN");
            Raw.write(racing, GET);
            pace.after(Step.RACED, List.of(racing));
        }
        // TLS: a handshake and a request the server closes (local_close); plain text to the TLS port.
        try (Socket secure = Tls.connect(tlsPort))
        {
            get(secure, GET_CLOSE);
        }
        try (Socket plain = Raw.connect(tlsPort))
        {
            Raw.write(plain, GET);
            Raw.readToEnd(plain);
        }
        // A CONNECT tunnel: hijacked.
        try (Socket tunnel = Raw.connect(port))
        {
            String authority = "127.0.0.1:" + tunnelPort;
            Raw.write(tunnel, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
            assertEquals(200, Raw.readHead(tunnel.getInputStream()).status());
            pace.after(Step.TUNNELLED, List.of(tunnel));
        }
        // 127.0.0.3 opens three connections and sends nothing: the third is over its cap of 2, client_limit.
        List<Socket> capped = new ArrayList<>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                capped.add(Raw.connect("127.0.0.3", port));
                pace.after(i < 2 ? Step.CAPPED_HELD : Step.CAPPED_REFUSED, capped);
            }
        }
        finally
        {
            for (Socket socket : capped)
                socket.close();
        }
        pace.after(Step.ROUND_DONE, List.of());
    }

    /** Opens {@code count} connections from 127.0.0.2 that send nothing; the caller closes them. */
    public List<Socket> silentClients(int count) throws IOException
    {
        List<Socket> silent = new ArrayList<>();
        try
        {
            for (int i = 0; i < count; i++)
                silent.add(Raw.connect("127.0.0.2", port));
            return silent;
        }
        catch (IOException x)
        {
            for (Socket socket : silent)
                socket.close();
            throw x;
        }
    }

    private void get(Socket socket, String request) throws IOException
    {
        Raw.write(socket, request);
        assertEquals(status, Raw.read(socket.getInputStream()).status());
    }
}
