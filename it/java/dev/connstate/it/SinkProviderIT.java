package dev.connstate.it;

import java.io.IOException;
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
import dev.connstate.it.listener.RecordingListener;
import dev.connstate.it.listener.RecordingSinkProvider;
import dev.connstate.sink.ConnStateSinkProvider;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A jar in {@code lib/connstate/} that provides a sink by name: {@code sinks=recording} uses it,
 * with its own setting {@code jetty.connstate.recording.file}, given as a system property.
 */
public class SinkProviderIT
{
    @Test
    public void aThirdPartySinkByName() throws Exception
    {
        Base base = Distribution.newBase("provider").addModules("http,connstate");
        providerJar(base);
        Path file = base.resolve("recorded.txt");
        int clientPort;
        try (Jetty jetty = base.start("jetty.connstate.sinks=recording", "-Djetty.connstate.recording.file=recorded.txt"))
        {
            try (Socket socket = Raw.connect(jetty.httpPort()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                Raw.readToEnd(socket);
            }
            Wait.until("the recording sink's closed line", Distribution.EVENT_TIMEOUT,
                () -> linesSoFar(file).stream().anyMatch(l -> l.endsWith(" closed")));
            // A graceful stop closes the sink.
            jetty.stop();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String id = lines.get(0).split(" ")[0];
        // The sink checked the contract inside Jetty: a violation would be a line before the last.
        assertEquals(List.of(id + " new", id + " active", id + " closed", RecordingListener.CLOSED), lines, "port " + clientPort);
    }

    @Test
    public void aThirdPartySinkChecksItsSettings() throws Exception
    {
        Base base = Distribution.newBase("provider-bad").addModules("http,connstate");
        providerJar(base);
        Distribution.Result result = base.run("jetty.connstate.sinks=log,recording");
        assertNotEquals(0, result.exit(), result.output());
        assertTrue(result.output().contains("Not starting: jetty.connstate.recording.file=: a file name is required"), result.output());
    }

    /** The lines written so far; none while the sink has not made the file. */
    private static List<String> linesSoFar(Path file)
    {
        return Files.exists(file) ? List.of(Distribution.read(file).split("\n")) : List.of();
    }

    /** The provider and its sink in a jar of their own, registered for the ServiceLoader. */
    private static void providerJar(Base base) throws IOException
    {
        Bases.testClassesJar(base.resolve("lib/connstate/it-sink.jar"), List.of(RecordingSinkProvider.class, RecordingListener.class),
            Map.of(ConnStateSinkProvider.class, RecordingSinkProvider.class));
    }
}
