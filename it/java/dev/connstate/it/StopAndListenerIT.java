package dev.connstate.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.JsonLines.Event;
import dev.connstate.it.listener.RecordingListener;
import org.junit.jupiter.api.Test;

import static dev.connstate.it.JsonLines.assertSequence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user listener in its own jar in {@code lib/connstate/}, named by
 * {@code jetty.connstate.listeners}, receives the events; stopping Jetty (SIGTERM) while a
 * connection is idle reports it closed and flushes every sink: the jsonl file, the log, and the
 * user listener, which is closed last.
 */
public class StopAndListenerIT
{
    @Test
    public void stoppingFlushesEverySinkAndTheUserListener() throws Exception
    {
        Base base = Distribution.newBase("stop").addModules("http,connstate");
        jar(base.resolve("lib/connstate/it-listener.jar"), RecordingListener.class);
        JsonLines jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        Path userFile = base.resolve(RecordingListener.FILE);

        long id;
        int clientPort;
        try (Jetty jetty = base.start("jetty.connstate.sinks=log,jsonl", "jetty.connstate.listeners=" + RecordingListener.class.getName()))
        {
            assertTrue(jetty.output().contains("RecordingListener"), jetty.output());
            try (Socket socket = Clients.socket(jetty.httpPort()))
            {
                clientPort = socket.getLocalPort();
                String response = exchange(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(response.startsWith("HTTP/1.1 "), response);
                // The connection is idle and stays open: wait for the sink to say so, then stop Jetty.
                Wait.until("the connection to be idle", Distribution.EVENT_TIMEOUT,
                    () -> jsonl.all().stream().anyMatch(e -> e.state().equals("idle") && e.remotePort() == clientPort));
                jetty.stop();
                // The server closed it.
                assertEquals(-1, socket.getInputStream().read());
            }
            String output = jetty.output();
            List<Event> conn = jsonl.nextOne();
            assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "closed");
            assertEquals(clientPort, conn.get(0).remotePort());
            id = conn.get(0).id();
            String closedLine = "Client: 127.0.0.1:" + clientPort + " - new state: closed (id " + id + ")";
            assertTrue(output.contains(closedLine), () -> "no '" + closedLine + "' in:\n" + output);
        }
        assertEquals(List.of(id + " new", id + " active", id + " idle", id + " closed", RecordingListener.CLOSED),
            Files.readAllLines(userFile, StandardCharsets.UTF_8));
    }

    /** Sends one request and reads one response (head and Content-Length body), leaving the connection open. */
    static String exchange(Socket socket, String request) throws IOException
    {
        OutputStream out = socket.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n"))
        {
            int b = in.read();
            if (b < 0)
                throw new IOException("Closed in the middle of the response head: " + head);
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        Matcher length = Pattern.compile("(?i)content-length:\\s*(\\d+)").matcher(text);
        assertTrue(length.find(), text);
        byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));
        return text + new String(body, StandardCharsets.ISO_8859_1);
    }

    /** Packs {@code type} (and its nested classes) from the test classes into a jar of its own. */
    static void jar(Path jar, Class<?> type) throws IOException
    {
        Files.createDirectories(jar.getParent());
        String dir = type.getPackageName().replace('.', '/');
        Path classes = Distribution.TEST_CLASSES.resolve(dir);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             var files = Files.list(classes))
        {
            for (Path file : (Iterable<Path>)files::iterator)
            {
                String name = file.getFileName().toString();
                if (!name.equals(type.getSimpleName() + ".class") && !name.startsWith(type.getSimpleName() + "$"))
                    continue;
                out.putNextEntry(new JarEntry(dir + "/" + name));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
    }
}
