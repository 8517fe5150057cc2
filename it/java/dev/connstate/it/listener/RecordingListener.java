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
import dev.connstate.Recorder;

/**
 * The tests' {@link Recorder} as a user listener inside the real distribution (named by
 * jetty.connstate.listeners, or made by {@link RecordingSinkProvider}): it checks the contract
 * on every event as the embedded tests do, and writes what it saw to a file that the test
 * process reads, {@code id state} per event, then the violations it found and
 * {@value #CLOSED} when Jetty closes it.
 *
 * <p>The integration tests pack it into a jar of its own in {@code lib/connstate/}, with the
 * {@link Recorder} it extends.</p>
 */
public class RecordingListener extends Recorder implements Closeable
{
    /** The default file, in Jetty's working directory (the base). */
    public static final String FILE = "user-listener.txt";
    public static final String CLOSED = "closed-listener";
    /** How a violation line starts. */
    public static final String VIOLATION = "violation: ";

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
        super.onStateChange(conn, state);
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

    /** Writes the violations (none, when the contract held) and {@value #CLOSED}. */
    @Override
    public void close() throws IOException
    {
        for (String violation : violations())
            write(VIOLATION + violation);
        write(CLOSED);
        out.close();
    }
}
