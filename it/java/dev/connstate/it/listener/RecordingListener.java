package dev.connstate.it.listener;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;

/**
 * A user listener, as jetty.connstate.listeners names it: packed into a jar of its own in
 * {@code lib/connstate/} by the integration test. Writes {@code id state} lines to
 * {@code user-listener.txt} in Jetty's working directory (the base), and {@code closed-listener}
 * when Jetty closes it.
 */
public class RecordingListener implements ConnStateListener, Closeable
{
    public static final String FILE = "user-listener.txt";
    public static final String CLOSED = "closed-listener";

    private final BufferedWriter out;

    public RecordingListener() throws IOException
    {
        this(Path.of(FILE));
    }

    public RecordingListener(Path file) throws IOException
    {
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        write(conn.id() + " " + state);
    }

    private void write(String line)
    {
        try
        {
            out.write(line);
            out.newLine();
            out.flush();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }

    @Override
    public void close() throws IOException
    {
        write(CLOSED);
        out.close();
    }
}
