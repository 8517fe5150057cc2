package dev.connstate.jetty;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import dev.connstate.ConnLogRecords;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.Tls;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.sink.ConnLogSink;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code connlog} sink on a real server: through its queue to a file a day, one whole record
 * per connection, equal to the record the connection's transitions make, with the bytes its
 * client counted on its own socket. (Every other test's connections are checked against their
 * transitions too, when their {@code TrackedServer} closes: the close reasons among them.)
 */
public class ConnLogTest
{
    @TempDir
    Path dir;

    /** A server with the connection log to {@code dir}, queued as the module queues it. */
    private TrackedServer server() throws IOException
    {
        TrackedServer s = new TrackedServer();
        s.tracker.addListener("connlog", ConnLogSink.builder(dir.resolve("connlog-yyyy_mm_dd.jsonl")).build(), 8192);
        return s;
    }

    /** The log's lines once it holds {@code count}; the file is today's (UTC). */
    private List<String> awaitLines(int count) throws IOException
    {
        Path file = dir.resolve("connlog-" + LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy_MM_dd")) + ".jsonl");
        Wait.until(count + " records in " + file, () -> lines(file).size() >= count);
        List<String> lines = lines(file);
        assertEquals(count, lines.size(), () -> "records: " + lines);
        return lines;
    }

    private static List<String> lines(Path file)
    {
        try
        {
            return Files.isRegularFile(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
        }
        catch (IOException x)
        {
            throw new RuntimeException(x);
        }
    }

    /** Asserts the record is the one the transitions of the connection on {@code clientPort} make, with these bytes. */
    private static List<ConnStateEvent> assertRecord(TrackedServer s, String record, int clientPort, long bytesIn, long bytesOut)
    {
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        String derived = ConnLogRecords.derived(events, Long.toString(bytesIn), Long.toString(bytesOut));
        assertTrue(ConnLogRecords.same(record, derived), () -> "\n  record: " + record + "\n derived: " + derived);
        return events;
    }

    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    @Test
    public void aKeepAliveConnectionWithThreeRequests() throws Exception
    {
        try (TrackedServer s = server().start())
        {
            CountingSocket socket = CountingSocket.connect(s.port());
            int port = socket.getLocalPort();
            for (int i = 0; i < 3; i++)
            {
                write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
            }
            // The client closes first, and reads what is left: the server's counts are final.
            socket.shutdownOutput();
            assertEquals(-1, socket.getInputStream().read());
            socket.close();
            List<ConnStateEvent> events = assertRecord(s, awaitLines(1).get(0), port, socket.out(), socket.in());
            assertEquals(seq("new", "active", "idle", "active", "idle", "active", "idle", "closed"), events.stream().map(ConnStateEvent::state).toList());
            assertEquals(3L * GET.length(), socket.out());
            String record = awaitLines(1).get(0);
            assertTrue(record.contains("\"requests\":3,"), record);
            assertTrue(record.contains("\"end\":\"closed\",\"reason\":\"remote_close\",\"race\":false}"), record);
        }
    }

    @Test
    public void aSilentClient() throws Exception
    {
        try (TrackedServer s = server().start())
        {
            CountingSocket socket = CountingSocket.connect(s.port());
            int port = socket.getLocalPort();
            Wait.until("the connection tracked", () -> s.recorder.idOfClientPort(port) > 0);
            socket.close();
            String record = awaitLines(1).get(0);
            assertRecord(s, record, port, 0, 0);
            assertTrue(record.contains(",\"firstRequestMs\":null,\"requests\":0,\"activeMs\":0.000,\"idleMs\":0.000,\"maxIdleMs\":null,\"bytesIn\":0,\"bytesOut\":0,\"end\":\"closed\",\"reason\":\"remote_close\","), record);
        }
    }

    @Test
    public void aTlsConnectionWithItsHandshakeAndSni() throws Exception
    {
        try (TrackedServer s = server())
        {
            s.addTlsConnector();
            s.start();
            CountingSocket socket = CountingSocket.connect(s.port());
            int port = socket.getLocalPort();
            SSLSocket tls = (SSLSocket)Tls.clientContext(true).getSocketFactory().createSocket(socket, "127.0.0.1", s.port(), true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName("www.connstate.test")));
            parameters.setProtocols(new String[]{"TLSv1.3"});
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            tls.getOutputStream().write(GET.getBytes(StandardCharsets.US_ASCII));
            assertEquals("hello", Raw.read(tls.getInputStream()).text());
            // close_notify, then the server's, then its FIN: everything either side wrote was read.
            tls.shutdownOutput();
            assertEquals(-1, tls.getInputStream().read());
            tls.close();
            String record = awaitLines(1).get(0);
            List<ConnStateEvent> events = assertRecord(s, record, port, socket.out(), socket.in());
            ConnStateEvent end = events.get(events.size() - 1);
            assertEquals("TLSv1.3", end.tls().protocol());
            assertEquals("www.connstate.test", end.tls().sniHost());
            long handshake = end.tls().handshakeNanos();
            // Done before the request came, and stamped on every event after it.
            assertTrue(handshake > 0 && handshake < events.get(1).ageNanos(), () -> "handshake " + handshake + " ns, request at " + events.get(1).ageNanos());
            assertEquals(end.tls(), events.get(1).tls());
            assertTrue(record.contains(",\"secure\":true,\"tls\":{\"protocol\":\"TLSv1.3\",\"cipher\":\"" + end.tls().cipherSuite() +
                "\",\"sni\":\"www.connstate.test\",\"handshakeMs\":" + ConnLogRecords.millis(handshake) + "},"), record);
            // The bytes on the wire: more than the request and the response in clear.
            assertTrue(socket.out() > GET.length(), record);
        }
    }

    @Test
    public void aFailedHandshake() throws Exception
    {
        try (TrackedServer s = server())
        {
            s.addTlsConnector();
            s.start();
            CountingSocket socket = CountingSocket.connect(s.port());
            int port = socket.getLocalPort();
            write(socket, GET);
            // The server answers with an alert and closes.
            while (socket.getInputStream().read() >= 0)
            {
                // counted
            }
            socket.close();
            String record = awaitLines(1).get(0);
            List<ConnStateEvent> events = assertRecord(s, record, port, socket.out(), socket.in());
            assertEquals(seq("new", "closed"), events.stream().map(ConnStateEvent::state).toList());
            ConnStateEvent end = events.get(1);
            assertTrue(record.contains(",\"secure\":true,\"tls\":{\"protocol\":null,\"cipher\":null,\"sni\":null,\"handshakeMs\":" + ConnLogRecords.millis(end.ageNanos()) + "},"), record);
            assertTrue(record.contains(",\"firstRequestMs\":null,\"requests\":0,"), record);
            assertTrue(record.endsWith(",\"end\":\"closed\",\"reason\":\"tls_handshake_failed\",\"race\":false}"), record);
            assertEquals(GET.length(), socket.out());
            assertTrue(socket.in() > 0, "the alert");
            assertEquals(1, s.tracker.getTlsHandshakeFailures());
        }
    }

    /** A WebSocket that says nothing. */
    @WebSocket
    public static class Quiet
    {
    }

    @Test
    public void aWebSocketEndsHijacked() throws Exception
    {
        try (TrackedServer s = server())
        {
            s.handler(WebSocketUpgradeHandler.from(s.server, container -> container.addMapping("/ws", (rq, rs, cb) -> new Quiet()))).start();
            CountingSocket socket = CountingSocket.connect(s.port());
            int port = socket.getLocalPort();
            String upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            write(socket, upgrade);
            Raw.Response response = Raw.readHead(socket.getInputStream());
            assertEquals(101, response.status());
            String record = awaitLines(1).get(0);
            // At the hijack the request was read; the 101 is the application's to write, counted when its write completed.
            long out = Long.parseLong(field(record, "bytesOut"));
            assertTrue(out == 0 || out == socket.in(), () -> "bytesOut " + out + ", the 101 is " + socket.in() + " bytes");
            List<ConnStateEvent> events = assertRecord(s, record, port, upgrade.length(), out);
            assertEquals(seq("new", "active", "hijacked"), events.stream().map(ConnStateEvent::state).toList());
            assertTrue(record.contains(",\"requests\":1,"), record);
            assertTrue(record.endsWith(",\"end\":\"hijacked\",\"reason\":null,\"race\":false}"), record);
            socket.close();
            Wait.until("the tracker to forget the closed socket", () -> s.tracker.getTrackedConnections() == 0);
            // The record was the end: nothing more came after the socket closed.
            assertEquals(1, awaitLines(1).size());
        }
    }

    private static String field(String record, String name)
    {
        Matcher m = Pattern.compile("\"" + name + "\":([^,}]*)").matcher(record);
        assertTrue(m.find(), record);
        return m.group(1);
    }

    private static void write(Socket socket, String ascii) throws IOException
    {
        socket.getOutputStream().write(ascii.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** A client socket on 127.0.0.1 that counts the bytes it reads and writes: what the server wrote and read. */
    static final class CountingSocket extends Socket
    {
        private final AtomicLong read = new AtomicLong();
        private final AtomicLong written = new AtomicLong();
        private InputStream input;
        private OutputStream output;

        static CountingSocket connect(int port) throws IOException
        {
            CountingSocket socket = new CountingSocket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(10_000);
            return socket;
        }

        /** @return the bytes read: what the server wrote */
        long in()
        {
            return read.get();
        }

        /** @return the bytes written: what the server read */
        long out()
        {
            return written.get();
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException
        {
            if (input == null)
            {
                input = new FilterInputStream(super.getInputStream())
                {
                    @Override
                    public int read() throws IOException
                    {
                        int b = super.read();
                        if (b >= 0)
                            read.incrementAndGet();
                        return b;
                    }

                    @Override
                    public int read(byte[] bytes, int offset, int length) throws IOException
                    {
                        int n = super.read(bytes, offset, length);
                        if (n > 0)
                            read.addAndGet(n);
                        return n;
                    }
                };
            }
            return input;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException
        {
            if (output == null)
            {
                output = new FilterOutputStream(super.getOutputStream())
                {
                    @Override
                    public void write(int b) throws IOException
                    {
                        written.incrementAndGet();
                        super.write(b);
                    }

                    @Override
                    public void write(byte[] bytes, int offset, int length) throws IOException
                    {
                        written.addAndGet(length);
                        // Straight through: FilterOutputStream would write byte by byte, counting each twice.
                        out.write(bytes, offset, length);
                    }
                };
            }
            return output;
        }
    }
}
