package dev.connstate.it;

import java.net.Socket;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.JsonLines.Event;
import org.junit.jupiter.api.Test;

import static dev.connstate.it.JsonLines.assertSequence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drain on the real distribution: with {@code jetty.server.stopTimeout} set, stopping Jetty
 * (SIGTERM) drains; Jetty's {@code graceful} module beside it loses its 503-answering handler.
 */
public class DrainIT
{
    @Test
    public void aGracefulStopDrainsAndSaysSo() throws Exception
    {
        Base base = Distribution.newBase("drain").addModules("http,graceful,connstate");
        JsonLines jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
        try (Jetty jetty = base.start("jetty.server.stopTimeout=10000", "jetty.connstate.sinks=jsonl"))
        {
            assertTrue(jetty.output().contains("out of the handler chain: during a graceful stop, the connstate drain serves requests with Connection: close instead of 503"), jetty.output());
            try (Socket socket = Raw.connect(jetty.httpPort()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(Raw.read(socket.getInputStream()).head().startsWith("HTTP/1.1 "));
                Wait.until("the connection to be idle", Distribution.EVENT_TIMEOUT,
                    () -> jsonl.all().stream().anyMatch(e -> e.state().equals("idle") && e.remotePort() == clientPort));
                jetty.stop();
                // Closed at once by the drain, not after an idle timeout.
                assertEquals(-1, socket.getInputStream().read());
                List<Event> conn = jsonl.nextOne();
                assertSequence(conn, jetty.httpPort(), false, "new", "active", "idle", "closed");
                assertTrue(conn.get(3).line().contains("\"reason\":\"drain\""), conn.get(3).line());
            }
            String output = jetty.output();
            assertTrue(output.contains("Drained in "), output);
            assertTrue(output.contains("1 connections closed idle, 0 finished their request, 0 closed new, 0 forced at the deadline"), output);
            assertFalse(output.contains(" 503 "), output);
        }
    }
}
