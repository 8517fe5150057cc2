package dev.connstate.sink;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.util.Objects;

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
 *
 * <p><b>A file a day.</b> If the file's name holds {@code yyyy_mm_dd} (any case), as Jetty's
 * request log, it is replaced by the date ({@link Builder#filenameDateFormat(String)}, by default
 * {@value #DEFAULT_FILENAME_DATE_FORMAT}, in {@link Builder#timeZone(ZoneId)}, by default
 * {@value #DEFAULT_TIME_ZONE}), and a new file is begun after midnight: before the first write
 * of the new day, on the sink's thread. A write is one batch of whole lines, so a line is never
 * split across two files and none is lost to the change; the lines buffered in the last moments
 * of a day (at most one batch: milliseconds) go with their batch to the new day's file. If the
 * new day's file cannot be opened, the batch stays in the buffer, as when a write fails, and the
 * next write tries again. When it opens and
 * at each new day, it deletes the files older than {@link Builder#retainDays(int)} days (by
 * default {@value #DEFAULT_RETAIN_DAYS}) by the date in their name. The date is read once per
 * write, never per line:</p>
 * <pre>{@code
 * JsonLinesSink sink = JsonLinesSink.builder(Path.of("logs/connstate-yyyy_mm_dd.jsonl"))
 *     .retainDays(30)
 *     .timeZone(ZoneId.of("Europe/Paris"))
 *     .build();
 * }</pre>
 * <p>The constructors use the defaults: a file named with {@code yyyy_mm_dd} is rolled over
 * and kept {@value #DEFAULT_RETAIN_DAYS} days, any other file is one file, appended to.</p>
 */
public final class JsonLinesSink implements ConnStateListener, Flushable, Closeable
{
    /** The file name that means standard output. */
    public static final String STDOUT = "-";
    /** The default date format that replaces {@code yyyy_mm_dd} in the file's name, as Jetty's request log's. */
    public static final String DEFAULT_FILENAME_DATE_FORMAT = "yyyy_MM_dd";
    /** The default number of days of files kept besides today's, as Jetty's request log's. */
    public static final int DEFAULT_RETAIN_DAYS = 90;
    /** The default time zone of the date in the file's name and of midnight, as Jetty's request log's. */
    public static final String DEFAULT_TIME_ZONE = "GMT";
    /** Whether an existing file is appended to by default. */
    public static final boolean DEFAULT_APPEND = true;

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
        this(new Builder(file).autoFlush(autoFlush));
    }

    private JsonLinesSink(Builder options)
    {
        this.autoFlush = options.autoFlush;
        this.writer = null;
        this.buffer = new Json(WRITE_AT + 4096);
        if (options.file == null)
        {
            this.target = STDOUT;
            this.out = System.out;
            this.close = false;
        }
        else
        {
            this.target = options.file.toString();
            this.out = options.open();
            this.close = true;
        }
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

    /**
     * The options of a {@link JsonLinesSink} writing to a file: {@link JsonLinesSink#builder(Path)},
     * then {@link #build()}. Each option is checked by {@link #build()}.
     */
    public static final class Builder
    {
        /** {@code null}: standard output. */
        private final Path file;
        private String filenameDateFormat = DEFAULT_FILENAME_DATE_FORMAT;
        private int retainDays = DEFAULT_RETAIN_DAYS;
        private boolean append = DEFAULT_APPEND;
        private ZoneId timeZone = ZoneId.of(DEFAULT_TIME_ZONE);
        private boolean autoFlush;
        private Clock clock = Clock.systemUTC();

        private Builder(Path file)
        {
            this.file = file;
        }

        /**
         * @param format the {@link java.text.SimpleDateFormat} that replaces {@code yyyy_mm_dd}
         * in the file's name, by default {@value JsonLinesSink#DEFAULT_FILENAME_DATE_FORMAT}; it must name the
         * year, month and day (the age of an old file is read from its name) and make no
         * directory separator
         * @return this
         */
        public Builder filenameDateFormat(String format)
        {
            this.filenameDateFormat = Objects.requireNonNull(format, "format");
            return this;
        }

        /**
         * @param days how many days of files to keep besides today's, by default
         * {@value JsonLinesSink#DEFAULT_RETAIN_DAYS}; older ones, by the date in their name, are deleted when
         * the sink opens and at each new day; 0 keeps them all
         * @return this
         */
        public Builder retainDays(int days)
        {
            this.retainDays = days;
            return this;
        }

        /**
         * @param append whether to append to an existing file (the default), or to rename it
         * {@code NAME.HHmmssSSS} first, with the time, as Jetty's request log does
         * @return this
         */
        public Builder append(boolean append)
        {
            this.append = append;
            return this;
        }

        /**
         * @param zone the time zone of the date in the file's name and of the midnight that
         * begins a new file, by default {@value JsonLinesSink#DEFAULT_TIME_ZONE}
         * @return this
         */
        public Builder timeZone(ZoneId zone)
        {
            this.timeZone = Objects.requireNonNull(zone, "zone");
            return this;
        }

        /**
         * @param autoFlush whether to flush after every line (when it is not fed by a queue); by default not
         * @return this
         */
        public Builder autoFlush(boolean autoFlush)
        {
            this.autoFlush = autoFlush;
            return this;
        }

        /** The time, for tests: by default the system's. The module does not expose it. */
        Builder clock(Clock clock)
        {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
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
            String problem = retainDaysProblem(retainDays);
            if (problem != null)
                throw new IllegalArgumentException("retainDays=" + retainDays + ": " + problem);
            problem = DailyFileOutputStream.dateFormatProblem(filenameDateFormat);
            if (problem != null)
                throw new IllegalArgumentException("filenameDateFormat=" + filenameDateFormat + ": " + problem);
            return new JsonLinesSink(this);
        }

        private OutputStream open()
        {
            try
            {
                return new DailyFileOutputStream(file, filenameDateFormat, retainDays, append, timeZone, clock);
            }
            catch (IOException x)
            {
                throw new UncheckedIOException("Cannot append JSON lines to " + file + ": " + x.getMessage(), x);
            }
        }
    }

    /**
     * @return why a number of days cannot be a retention, or {@code null} if it can
     */
    static String retainDaysProblem(int days)
    {
        return days < 0 ? "must be 0 (keep every file) or more days" : null;
    }

    @Override
    public String toString()
    {
        return "jsonl[" + target + "]";
    }
}
