package dev.connstate;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One raw client connection to a tracked server that knows what the server reported for it:
 * it writes and reads bytes as {@link Raw} does, and finds its own sequence, events and close
 * reason in the server's {@link Recorder} by its client port.
 *
 * <pre>
 * RawClient c = s.connect();
 * c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
 * assertEquals("hello", c.read().text());
 * c.close();
 * c.assertSequence("new", "active", "idle", "closed");
 * </pre>
 */
public final class RawClient implements AutoCloseable
{
    private final Recorder recorder;
    private final Socket socket;
    private final int port;

    /**
     * @param recorder the server's recorder
     * @param socket a socket connected to the server (plain or TLS; a TLS one's handshake may be pending)
     */
    public RawClient(Recorder recorder, Socket socket)
    {
        this.recorder = recorder;
        this.socket = socket;
        this.port = socket.getLocalPort();
    }

    public Socket socket()
    {
        return socket;
    }

    /** The client's port: the one the server reports as the remote port at {@code new}. */
    public int port()
    {
        return port;
    }

    public InputStream in() throws IOException
    {
        return socket.getInputStream();
    }

    public RawClient send(String ascii) throws IOException
    {
        Raw.write(socket, ascii);
        return this;
    }

    public RawClient send(byte[] bytes) throws IOException
    {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /** Reads one whole response (see {@link Raw#read}). */
    public Raw.Response read() throws IOException
    {
        return Raw.read(in());
    }

    /** Reads one response and checks its status. */
    public Raw.Response expect(int status) throws IOException
    {
        Raw.Response response = read();
        assertEquals(status, response.status(), response.head());
        return response;
    }

    /** Reads a response head only (see {@link Raw#readHead}). */
    public Raw.Response readHead() throws IOException
    {
        return Raw.readHead(in());
    }

    /** Reads exactly {@code count} bytes, as ASCII text. */
    public String readText(int count) throws IOException
    {
        return new String(in().readNBytes(count), StandardCharsets.US_ASCII);
    }

    /** Reads until the server closes; returns what came. */
    public String readToEnd() throws IOException
    {
        return Raw.readToEnd(socket);
    }

    /** Closes with an RST instead of a FIN (not through TLS). */
    public void reset() throws IOException
    {
        Raw.reset(socket);
    }

    /** Closes with a FIN; closing again does nothing. */
    @Override
    public void close() throws IOException
    {
        socket.close();
    }

    /** The server's id of this connection, waiting (bounded) until the server has reported its {@code new}. */
    public long id()
    {
        return recorder.idOfClientPort(port);
    }

    /** The sequence the server reported for this connection so far. */
    public List<ConnState> sequence()
    {
        return recorder.sequence(id());
    }

    public List<ConnStateEvent> events()
    {
        return recorder.events(id());
    }

    /** The reason of the last event ({@code closed}'s, once the connection ended). */
    public CloseReason reason()
    {
        List<ConnStateEvent> events = events();
        return events.get(events.size() - 1).reason();
    }

    /** Waits (bounded) until the server reported exactly {@code states} for this connection so far. */
    public void awaitSequence(String... states)
    {
        List<ConnState> expected = Recorder.seq(states);
        long id = id();
        Wait.until("connection #" + id + " from client port " + port + " to be " + expected, Wait.TIMEOUT,
            () -> recorder.sequence(id), expected::equals);
    }

    /** Waits (bounded) until this connection ended on the server, and returns its whole sequence. */
    public List<ConnState> awaitEnd()
    {
        return recorder.awaitEnd(port);
    }

    /** Waits (bounded) until this connection ended on the server, and checks its whole sequence. */
    public void assertSequence(String... states)
    {
        assertSequence(Recorder.seq(states));
    }

    /** Waits (bounded) until this connection ended on the server, and checks its whole sequence. */
    public void assertSequence(List<ConnState> expected)
    {
        assertEquals(expected, awaitEnd(), "the sequence of the connection from client port " + port);
    }
}
