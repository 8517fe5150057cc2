package dev.connstate.sink;

import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.Objects;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;

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
 * <p>The file is a {@link JsonLinesFile}: a file a day if its name holds {@code yyyy_mm_dd},
 * with the retention and time zone of Jetty's request log:</p>
 * <pre>{@code
 * JsonLinesSink sink = JsonLinesSink.builder(Path.of("logs/connstate-yyyy_mm_dd.jsonl"))
 *     .retainDays(30)
 *     .timeZone(ZoneId.of("Europe/Paris"))
 *     .build();
 * }</pre>
 * <p>The constructors use the defaults: a file named with {@code yyyy_mm_dd} is rolled over
 * and kept {@value JsonLinesFile#DEFAULT_RETAIN_DAYS} days, any other file is one file, appended to.</p>
 */
public final class JsonLinesSink extends JsonFileSink
{
    /**
     * @param file the file to append to (its directory must exist), or {@value JsonLinesFile#STDOUT} for standard output
     * @throws UncheckedIOException if the file cannot be opened for appending
     */
    public JsonLinesSink(String file)
    {
        this(JsonLinesFile.STDOUT.equals(file) ? null : Path.of(file));
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
        this(new Builder(file).autoFlush(autoFlush).open());
    }

    /**
     * Writes to {@code writer}, for tests and embedders with their own destination.
     *
     * @param writer where lines go
     * @param close whether {@link #close()} closes it
     */
    public JsonLinesSink(Writer writer, boolean close)
    {
        this(JsonLinesFile.to(writer, close));
    }

    /**
     * @param out where the lines go
     */
    public JsonLinesSink(JsonLinesFile out)
    {
        super("jsonl", out);
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

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        out.line().append(ConnStateEvent.of(conn));
        out.endLine();
    }

    /**
     * The options of a {@link JsonLinesSink} writing to a file: {@link JsonLinesSink#builder(Path)},
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
        public JsonLinesSink build()
        {
            return new JsonLinesSink(open());
        }
    }
}
