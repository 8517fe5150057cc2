package dev.connstate.it;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.connstate.Raw;
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
        Bases.testClassesJar(base.resolve("lib/connstate/it-listener.jar"), List.of(RecordingListener.class), Map.of());
        JsonLines jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        Path userFile = base.resolve(RecordingListener.FILE);

        long id;
        int clientPort;
        try (Jetty jetty = base.start("jetty.connstate.sinks=log,jsonl", "jetty.connstate.listeners=" + RecordingListener.class.getName()))
        {
            assertTrue(jetty.output().contains("RecordingListener"), jetty.output());
            try (Socket socket = Raw.connect(jetty.httpPort()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.Response response = Raw.read(socket.getInputStream());
                assertTrue(response.head().startsWith("HTTP/1.1 "), response.head());
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
        // The listener checked the contract inside Jetty: a violation would be a line before the last.
        assertEquals(List.of(id + " new", id + " active", id + " idle", id + " closed", RecordingListener.CLOSED),
            Files.readAllLines(userFile, StandardCharsets.UTF_8));
    }
}
