package dev.connstate.sink;

import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Objects;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;

/**
 * Appends the contract's connection record, one JSON line per connection when it ends
 * ({@code closed} or {@code hijacked}), to a file or to standard output: the connection log.
 *
 * <p>It {@link #wants(ConnState) wants} only the terminal states, so the other transitions cost
 * it nothing; the record is made from the end's event alone (its {@link ConnTotals}), so it keeps
 * nothing per connection. It does I/O: register it as a queued listener, never inline. Its file
 * is a {@link JsonLinesFile}, with the {@code jsonl} sink's batching, daily files and retention.
 * Not thread-safe: one queue thread calls it.</p>
 * <pre>{@code
 * tracker.addListener("connlog", ConnLogSink.builder(Path.of("logs/connlog-yyyy_mm_dd.jsonl")).build(), 8192);
 * }</pre>
 */
public final class ConnLogSink extends JsonFileSink
{
    /**
     * @param out where the records go
     */
    public ConnLogSink(JsonLinesFile out)
    {
        super("connlog", out);
    }

    /**
     * Writes to {@code writer}, for tests and embedders with their own destination.
     *
     * @param writer where records go, each flushed at once
     * @param close whether {@link #close()} closes it
     */
    public ConnLogSink(Writer writer, boolean close)
    {
        this(JsonLinesFile.to(writer, close));
    }

    /**
     * @param file the file to write, relative to the working directory; {@code yyyy_mm_dd} in its
     * name (any case) is replaced by the date, and the sink begins a new file every day
     * @return the options of a sink writing to {@code file}, all set to their defaults
     */
    public static Builder builder(Path file)
    {
        return new Builder(Objects.requireNonNull(file, "file"));
    }

    /** Only the end of a connection makes a record. */
    @Override
    public boolean wants(ConnState state)
    {
        return state.isTerminal();
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (!state.isTerminal())
            return;
        out.line().appendConnection(ConnStateEvent.of(conn));
        out.endLine();
    }

    /**
     * @param end the {@code closed} or {@code hijacked} transition of a connection (a snapshot is
     * taken if it is a live connection)
     * @return its connection record, without a line terminator
     */
    public static String record(ConnInfo end)
    {
        return new Json().appendConnection(ConnStateEvent.of(end)).toString();
    }

    /**
     * The options of a {@link ConnLogSink} writing to a file: {@link ConnLogSink#builder(Path)},
     * then {@link #build()}.
     */
    public static final class Builder extends JsonLinesFile.Options<Builder>
    {
        private Builder(Path file)
        {
            super(file);
        }

        /**
         * Opens the file of today (its directory must exist) and deletes the files past the retention.
         *
         * @return the sink
         * @throws IllegalArgumentException naming the option that cannot work and its value
         * @throws UncheckedIOException if the file cannot be opened
         */
        public ConnLogSink build()
        {
            return new ConnLogSink(open());
        }
    }
}
