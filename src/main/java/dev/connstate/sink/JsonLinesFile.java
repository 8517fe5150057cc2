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

/**
 * Writes whole JSON lines, in batches, to a file a day, to standard output or to a writer: the
 * output of the {@code jsonl} and {@code connlog} sinks.
 *
 * <p>A sink appends a line to {@link #line()}, then calls {@link #endLine()}. Lines are written
 * as UTF-8 bytes into one reused buffer, which goes out in one write when it holds
 * {@value #WRITE_AT} bytes or more, or when flushed. Made with {@code autoFlush}, every line is
 * flushed at once instead. Not thread-safe: one thread (the sink's queue) writes.</p>
 *
 * <p><b>A file a day.</b> If the file's name holds {@code yyyy_mm_dd} (any case), as Jetty's
 * request log, it is replaced by the date ({@link Options#filenameDateFormat(String)}, by default
 * {@value #DEFAULT_FILENAME_DATE_FORMAT}, in {@link Options#timeZone(ZoneId)}, by default
 * {@value #DEFAULT_TIME_ZONE}), and a new file is begun after midnight: before the first write
 * of the new day. A write is one batch of whole lines, so a line is never split across two files
 * and none is lost to the change; the lines buffered in the last moments of a day (at most one
 * batch: milliseconds) go with their batch to the new day's file. If the new day's file cannot
 * be opened, the batch stays in the buffer, as when a write fails, and the next write tries
 * again. When it opens and at each new day, it deletes the files older than
 * {@link Options#retainDays(int)} days (by default {@value #DEFAULT_RETAIN_DAYS}) by the date in
 * their name. The date is read once per write, never per line.</p>
 */
public final class JsonLinesFile implements Flushable, Closeable
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

    /** Under load, the buffer is written out once it holds this many bytes (some 250 transition lines). */
    static final int WRITE_AT = 60 * 1024;

    private final String target;
    /** Where the bytes go: the file or standard output; {@code null} when made with a writer. */
    private final OutputStream out;
    /** Where the lines go when made with a writer; {@code null} otherwise. */
    private final Writer writer;
    private final boolean close;
    private final boolean autoFlush;
    private final Json buffer;

    private JsonLinesFile(String target, OutputStream out, Writer writer, boolean close, boolean autoFlush)
    {
        this.target = target;
        this.out = out;
        this.writer = writer;
        this.close = close;
        this.autoFlush = autoFlush;
        this.buffer = new Json(writer == null ? WRITE_AT + 4096 : 512);
    }

    /**
     * @param autoFlush whether to flush after every line
     * @return lines to standard output, never closed
     */
    public static JsonLinesFile stdout(boolean autoFlush)
    {
        return new JsonLinesFile(STDOUT, System.out, null, false, autoFlush);
    }

    /**
     * Lines to {@code writer}, each written and flushed at once: for tests and embedders with
     * their own destination.
     *
     * @param writer where lines go
     * @param close whether {@link #close()} closes it
     */
    public static JsonLinesFile to(Writer writer, boolean close)
    {
        return new JsonLinesFile(writer.toString(), null, writer, close, true);
    }

    /**
     * Begins a line.
     *
     * @return the buffer to append one JSON value to, without a line terminator
     * @throws UncheckedIOException if the buffer was full and could not be written out; the
     * buffer then keeps what it has (tried again next time) and the line must not be written,
     * so that it does not grow without bound
     */
    public Json line()
    {
        if (writer != null)
            buffer.clear();
        else if (buffer.size() >= WRITE_AT)
        {
            try
            {
                writeOut();
            }
            catch (IOException x)
            {
                throw failed(x);
            }
        }
        return buffer;
    }

    /**
     * Ends the line begun by {@link #line()}.
     *
     * @throws UncheckedIOException if a write made at once failed
     */
    public void endLine()
    {
        try
        {
            if (writer != null)
            {
                writer.write(buffer.toString());
                writer.write('\n');
                if (autoFlush)
                    writer.flush();
                return;
            }
            buffer.ascii('\n');
            if (autoFlush)
                flush();
        }
        catch (IOException x)
        {
            throw failed(x);
        }
    }

    private UncheckedIOException failed(IOException x)
    {
        return new UncheckedIOException("Cannot write to " + target, x);
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
     * @return why a number of days cannot be a retention, or {@code null} if it can
     */
    static String retainDaysProblem(int days)
    {
        return days < 0 ? "must be 0 (keep every file) or more days" : null;
    }

    @Override
    public String toString()
    {
        return target;
    }

    /**
     * The options of a file of JSON lines, shared by the sinks' builders: each option is checked
     * when the file opens.
     *
     * @param <B> the builder's own type, which each setter returns
     */
    public abstract static class Options<B extends Options<B>>
    {
        /** {@code null}: standard output. */
        private final Path file;
        private String filenameDateFormat = DEFAULT_FILENAME_DATE_FORMAT;
        private int retainDays = DEFAULT_RETAIN_DAYS;
        private boolean append = DEFAULT_APPEND;
        private ZoneId timeZone = ZoneId.of(DEFAULT_TIME_ZONE);
        private boolean autoFlush;
        private Clock clock = Clock.systemUTC();

        /**
         * @param file the file to write, relative to the working directory, or {@code null} for standard output
         */
        protected Options(Path file)
        {
            this.file = file;
        }

        @SuppressWarnings("unchecked")
        private B self()
        {
            return (B)this;
        }

        /**
         * @param format the {@link java.text.SimpleDateFormat} that replaces {@code yyyy_mm_dd}
         * in the file's name, by default {@value JsonLinesFile#DEFAULT_FILENAME_DATE_FORMAT}; it must name the
         * year, month and day (the age of an old file is read from its name) and make no
         * directory separator
         * @return this
         */
        public B filenameDateFormat(String format)
        {
            this.filenameDateFormat = Objects.requireNonNull(format, "format");
            return self();
        }

        /**
         * @param days how many days of files to keep besides today's, by default
         * {@value JsonLinesFile#DEFAULT_RETAIN_DAYS}; older ones, by the date in their name, are deleted when
         * the file opens and at each new day; 0 keeps them all
         * @return this
         */
        public B retainDays(int days)
        {
            this.retainDays = days;
            return self();
        }

        /**
         * @param append whether to append to an existing file (the default), or to rename it
         * {@code NAME.HHmmssSSS} first, with the time, as Jetty's request log does
         * @return this
         */
        public B append(boolean append)
        {
            this.append = append;
            return self();
        }

        /**
         * @param zone the time zone of the date in the file's name and of the midnight that
         * begins a new file, by default {@value JsonLinesFile#DEFAULT_TIME_ZONE}
         * @return this
         */
        public B timeZone(ZoneId zone)
        {
            this.timeZone = Objects.requireNonNull(zone, "zone");
            return self();
        }

        /**
         * @param autoFlush whether to flush after every line (when it is not fed by a queue); by default not
         * @return this
         */
        public B autoFlush(boolean autoFlush)
        {
            this.autoFlush = autoFlush;
            return self();
        }

        /** The time, for tests: by default the system's. The module does not expose it. */
        B clock(Clock clock)
        {
            this.clock = Objects.requireNonNull(clock, "clock");
            return self();
        }

        /**
         * Opens the file of today (its directory must exist) and deletes the files past the retention.
         *
         * @return the open file
         * @throws IllegalArgumentException naming the option that cannot work and its value
         * @throws UncheckedIOException if the file cannot be opened
         */
        protected JsonLinesFile open()
        {
            String problem = retainDaysProblem(retainDays);
            if (problem != null)
                throw new IllegalArgumentException("retainDays=" + retainDays + ": " + problem);
            problem = DailyFileOutputStream.dateFormatProblem(filenameDateFormat);
            if (problem != null)
                throw new IllegalArgumentException("filenameDateFormat=" + filenameDateFormat + ": " + problem);
            if (file == null)
                return stdout(autoFlush);
            try
            {
                OutputStream out = new DailyFileOutputStream(file, filenameDateFormat, retainDays, append, timeZone, clock);
                return new JsonLinesFile(file.toString(), out, null, true, autoFlush);
            }
            catch (IOException x)
            {
                throw new UncheckedIOException("Cannot append JSON lines to " + file + ": " + x.getMessage(), x);
            }
        }
    }
}
