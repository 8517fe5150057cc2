package dev.connstate.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.connstate.Wait;
import dev.connstate.stress.JsonLinesCheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the tests of each way in (the module, Spring Boot's properties, the Dropwizard bundle's
 * YAML) need to see a configured {@code connlog} sink write: one connection through the real
 * server, then its record in the file the configuration names.
 */
public final class ConnLogFile
{
    private ConnLogFile()
    {
    }

    /**
     * One connection to the server on {@code 127.0.0.1:port}: one request with
     * {@code Connection: close}, its 200 response read to the end, the socket closed.
     */
    public static void oneRequest(int port, String path) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
        }
    }

    /**
     * Waits, with {@link Wait}'s bound, until {@code file} holds a whole line, and parses it
     * strictly.
     *
     * @return the one record in the file
     * @throws AssertionError if none came in time, or if there is more than one
     */
    public static Map<String, Object> awaitOnlyRecord(Path file)
    {
        List<String> lines = Wait.until("a connection record in " + file, Wait.TIMEOUT, () -> wholeLines(file), l -> !l.isEmpty());
        assertEquals(1, lines.size(), () -> "one connection, one record: " + lines);
        return JsonLinesCheck.parseObject(lines.get(0), file.toString());
    }

    /** The lines of {@code file} that end with a line terminator; none while it does not exist. */
    private static List<String> wholeLines(Path file)
    {
        if (!Files.exists(file))
            return List.of();
        try
        {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            return text.substring(0, text.lastIndexOf('\n') + 1).lines().toList();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }
}
