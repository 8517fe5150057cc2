package dev.connstate.sink;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;

/**
 * Appends the contract's JSON record, one line per transition, to a file or to standard
 * output.
 *
 * <p>It does I/O: register it as a queued listener, never inline. Its queue flushes it
 * whenever it has written all the events there were (see {@link #flush()}): under load that is
 * one write for many lines, and when the server is quiet every line is out within
 * milliseconds. Made with {@code autoFlush}, it flushes every line itself instead. Not
 * thread-safe: one queue thread calls it.</p>
 */
public final class JsonLinesSink implements ConnStateListener, Flushable, Closeable
{
    /** The file name that means standard output. */
    public static final String STDOUT = "-";

    private final String target;
    private final Writer writer;
    private final boolean closeWriter;
    private final boolean autoFlush;

    /**
     * @param file the file to append to (its directory must exist), or {@value #STDOUT} for standard output
     * @throws UncheckedIOException if the file cannot be opened for appending
     */
    public JsonLinesSink(String file)
    {
        this(STDOUT.equals(file) ? null : Path.of(file));
    }

    /**
     * @param file the file to append to, or {@code null} for standard output
     * @throws UncheckedIOException if the file cannot be opened for appending
     */
    public JsonLinesSink(Path file)
    {
        this(file, false);
    }

    /**
     * @param file the file to append to, or {@code null} for standard output
     * @param autoFlush whether to flush after every line (when it is not fed by a queue)
     * @throws UncheckedIOException if the file cannot be opened for appending
     */
    public JsonLinesSink(Path file, boolean autoFlush)
    {
        this.autoFlush = autoFlush;
        if (file == null)
        {
            this.target = STDOUT;
            this.writer = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
            this.closeWriter = false;
        }
        else
        {
            this.target = file.toString();
            if (Files.isDirectory(file))
                throw new UncheckedIOException(new IOException("Cannot append JSON lines to " + file + ": it is a directory"));
            try
            {
                OutputStream out = new FileOutputStream(file.toFile(), true);
                this.writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
                this.closeWriter = true;
            }
            catch (IOException x)
            {
                throw new UncheckedIOException("Cannot append JSON lines to " + file + ": " + x.getMessage(), x);
            }
        }
    }

    /**
     * Writes to {@code writer}, for tests and embedders with their own destination.
     *
     * @param writer where lines go
     * @param close whether {@link #close()} closes it
     */
    public JsonLinesSink(Writer writer, boolean close)
    {
        this.autoFlush = true;
        this.target = writer.toString();
        this.writer = writer;
        this.closeWriter = close;
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        try
        {
            writer.write(Json.record(conn));
            writer.write('\n');
            if (autoFlush)
                writer.flush();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException("Cannot write to " + target, x);
        }
    }

    @Override
    public void flush() throws IOException
    {
        writer.flush();
    }

    @Override
    public void close() throws IOException
    {
        if (closeWriter)
            writer.close();
        else
            writer.flush();
    }

    @Override
    public String toString()
    {
        return "jsonl[" + target + "]";
    }
}
