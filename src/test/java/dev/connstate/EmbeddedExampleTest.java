package dev.connstate;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class EmbeddedExampleTest
{
    private static String region(String text, String begin, String end)
    {
        int from = text.indexOf(begin);
        int to = text.indexOf(end, from);
        assertTrue(from >= 0 && to > from, "markers " + begin + " .. " + end);
        return text.substring(text.indexOf('\n', from) + 1, text.lastIndexOf('\n', to) + 1);
    }

    private static String normalize(String code)
    {
        return code.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    public void readmeShowsTheCompiledExample() throws Exception
    {
        String source = Files.readString(Path.of("src/test/java/dev/connstate/EmbeddedExample.java"));
        String readme = Files.readString(Path.of("README.md"));
        String code = region(source, "// tag::example[]", "// end::example[]");
        Matcher block = Pattern.compile("<!-- example -->\\s*```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "README has a java block after <!-- example -->");
        assertEquals(normalize(code), normalize(block.group(1)));
    }

    @Test
    public void examplePrintsGosFourTransitions() throws Exception
    {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Server server = EmbeddedExample.start(0, out);
        try
        {
            int port = ((ServerConnector)server.getConnectors()[0]).getLocalPort();
            String client;
            try (Socket socket = Raw.connect(port))
            {
                client = "127.0.0.1:" + socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                // A 204 has no body: the head is the whole response.
                Raw.Response response = Raw.read(socket.getInputStream());
                assertEquals("HTTP/1.1 204", response.head().substring(0, 12), response.head());
            }
            List<String> expected = List.of("new", "active", "idle", "closed").stream()
                .map(s -> "Client: " + client + " - new state: " + s).toList();
            Wait.until("four lines", () -> bytes.toString(StandardCharsets.UTF_8).lines().count() >= 4);
            assertEquals(expected, bytes.toString(StandardCharsets.UTF_8).lines().toList());
        }
        finally
        {
            server.stop();
        }
    }
}
