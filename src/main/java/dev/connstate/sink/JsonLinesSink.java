package dev.connstate.sink;

import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
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
 *
 * <p>Records are written as UTF-8 bytes straight into one reused buffer, which goes out in one
 * write when it holds {@value #WRITE_AT} bytes or more, or when the sink is flushed.</p>
 */
public final class JsonLinesSink implements ConnStateListener, Flushable, Closeable
{
    /** The file name that means standard output. */
    public static final String STDOUT = "-";

    /** Under load, the buffer is written out once it holds this many bytes (some 250 lines). */
    static final int WRITE_AT = 60 * 1024;

    private final String target;
    /** Where the bytes go: the file or standard output; {@code null} when made with a writer. */
    private final OutputStream out;
    /** Where the lines go when made with a writer; {@code null} otherwise. */
    private final Writer writer;
    private final boolean close;
    private final boolean autoFlush;
    private final Json buffer;

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
        this.writer = null;
        this.buffer = new Json(WRITE_AT + 4096);
        if (file == null)
        {
            this.target = STDOUT;
            this.out = System.out;
            this.close = false;
        }
        else
        {
            this.target = file.toString();
            if (Files.isDirectory(file))
                throw new UncheckedIOException(new IOException("Cannot append JSON lines to " + file + ": it is a directory"));
            try
            {
                this.out = new FileOutputStream(file.toFile(), true);
                this.close = true;
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
        this.out = null;
        this.writer = writer;
        this.close = close;
        this.buffer = new Json(512);
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        ConnStateEvent event = ConnStateEvent.of(conn);
        try
        {
            if (writer != null)
            {
                buffer.clear();
                buffer.append(event);
                writer.write(buffer.toString());
                writer.write('\n');
                if (autoFlush)
                    writer.flush();
                return;
            }
            // If it cannot be written out, the buffer keeps what it has (tried again next time)
            // and this event is not added: it does not grow without bound.
            if (buffer.size() >= WRITE_AT)
                writeOut();
            buffer.append(event);
            buffer.ascii('\n');
            if (autoFlush)
                flush();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException("Cannot write to " + target, x);
        }
    }

    private void writeOut() throws IOException
    {
        if (buffer.size() > 0)
        {
            out.write(buffer.array(), 0, buffer.size());
            buffer.clear();
        }
    }

    @Override
    public void flush() throws IOException
    {
        if (writer != null)
        {
            writer.flush();
            return;
        }
        writeOut();
        out.flush();
    }

    @Override
    public void close() throws IOException
    {
        if (writer != null)
        {
            if (close)
                writer.close();
            else
                writer.flush();
            return;
        }
        try
        {
            flush();
        }
        finally
        {
            if (close)
                out.close();
        }
    }

    @Override
    public String toString()
    {
        return "jsonl[" + target + "]";
    }
}
