package dev.connstate.it;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

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
        providerJar(base.resolve("lib/connstate/it-sink.jar"));
        Path file = base.resolve("recorded.txt");
        int clientPort;
        try (Jetty jetty = base.start("jetty.connstate.sinks=recording", "-Djetty.connstate.recording.file=recorded.txt"))
        {
            try (Socket socket = Clients.socket(jetty.httpPort()))
            {
                clientPort = socket.getLocalPort();
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getInputStream().readAllBytes();
            }
            Wait.until("the recording sink's closed line", Distribution.EVENT_TIMEOUT,
                () -> Files.exists(file) && read(file).stream().anyMatch(l -> l.endsWith(" closed")));
            // A graceful stop closes the sink.
            jetty.stop();
        }
        List<String> lines = read(file);
        String id = lines.get(0).split(" ")[0];
        assertEquals(List.of(id + " new", id + " active", id + " closed", RecordingListener.CLOSED), lines, "port " + clientPort);
    }

    @Test
    public void aThirdPartySinkChecksItsSettings() throws Exception
    {
        Base base = Distribution.newBase("provider-bad").addModules("http,connstate");
        providerJar(base.resolve("lib/connstate/it-sink.jar"));
        Distribution.Result result = base.run("jetty.connstate.sinks=log,recording");
        assertNotEquals(0, result.exit(), result.output());
        assertTrue(result.output().contains("Not starting: jetty.connstate.recording.file=: a file name is required"), result.output());
    }

    private static List<String> read(Path file)
    {
        try
        {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        catch (IOException x)
        {
            return List.of();
        }
    }

    /** The provider and its sink in a jar of their own, registered for the ServiceLoader. */
    private static void providerJar(Path jar) throws IOException
    {
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)))
        {
            for (Class<?> type : List.of(RecordingSinkProvider.class, RecordingListener.class))
            {
                String name = type.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(name));
                Files.copy(Distribution.TEST_CLASSES.resolve(name), out);
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/" + ConnStateSinkProvider.class.getName()));
            out.write((RecordingSinkProvider.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
    }
}
