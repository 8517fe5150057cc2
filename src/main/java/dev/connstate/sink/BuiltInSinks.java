package dev.connstate.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.function.Function;

import dev.connstate.ConnStateListener;

/**
 * The providers of the built-in sinks, registered in
 * {@code META-INF/services/dev.connstate.sink.ConnStateSinkProvider}.
 */
public final class BuiltInSinks
{
    private BuiltInSinks()
    {
    }

    /** {@code log}: keys {@code logger} and {@code format}. */
    public static final class Log implements ConnStateSinkProvider
    {
        /** The sink's name. */
        public static final String NAME = "log";
        /** Key: the SLF4J logger name, by default {@value LogSink#DEFAULT_LOGGER}. */
        public static final String LOGGER = "logger";
        /** Key: the line template, by default {@value LogSink#DEFAULT_FORMAT}. */
        public static final String FORMAT = "format";

        @Override
        public String name()
        {
            return NAME;
        }

        @Override
        public ConnStateListener newSink(SinkSettings settings)
        {
            String logger = settings.get(LOGGER, LogSink.DEFAULT_LOGGER);
            if (logger.isEmpty())
                throw settings.invalid(LOGGER, "the logger name must not be empty");
            try
            {
                return new LogSink(logger, settings.get(FORMAT, LogSink.DEFAULT_FORMAT));
            }
            catch (IllegalArgumentException x)
            {
                throw settings.invalid(FORMAT, x.getMessage());
            }
        }
    }

    /**
     * A sink that writes a {@link JsonLinesFile}: key {@code file}, relative to {@code jetty.base},
     * or {@code -} for standard output; and, as Jetty's request log, {@code filenameDateFormat},
     * {@code retainDays}, {@code append} and {@code rollover.timezone} (see {@link JsonLinesFile.Options}).
     * Every setting is checked before the file opens.
     */
    public abstract static class FileSink implements ConnStateSinkProvider
    {
        /** Key: the file; {@code yyyy_mm_dd} in its name is replaced by the date. */
        public static final String FILE = "file";
        /** Key: the date format of {@code yyyy_mm_dd} in the file's name, by default {@value JsonLinesFile#DEFAULT_FILENAME_DATE_FORMAT}. */
        public static final String FILENAME_DATE_FORMAT = "filenameDateFormat";
        /** Key: how many days of files to keep besides today's, by default {@value JsonLinesFile#DEFAULT_RETAIN_DAYS}; 0 keeps them all. */
        public static final String RETAIN_DAYS = "retainDays";
        /** Key: whether to append to an existing file ({@code true}, the default) or to rename it first ({@code false}). */
        public static final String APPEND = "append";
        /** Key: the time zone of the date and of midnight, by default {@value JsonLinesFile#DEFAULT_TIME_ZONE}. */
        public static final String ROLLOVER_TIMEZONE = "rollover.timezone";

        private final String name;
        private final String defaultFile;
        private final Function<JsonLinesFile, ConnStateListener> sink;

        /**
         * @param name the sink's name
         * @param defaultFile the file when {@link #FILE} is not set, relative to {@code jetty.base}
         * @param sink makes the sink writing to the open file
         */
        protected FileSink(String name, String defaultFile, Function<JsonLinesFile, ConnStateListener> sink)
        {
            this.name = name;
            this.defaultFile = defaultFile;
            this.sink = sink;
        }

        @Override
        public final String name()
        {
            return name;
        }

        @Override
        public final ConnStateListener newSink(SinkSettings settings)
        {
            String value = settings.get(FILE, defaultFile);
            if (value.isEmpty())
                throw settings.invalid(FILE, "a file name is required (or - for standard output)");
            // Every setting is checked before anything is opened, also those that standard output does not use.
            String dateFormat = settings.get(FILENAME_DATE_FORMAT, JsonLinesFile.DEFAULT_FILENAME_DATE_FORMAT);
            String problem = DailyFileOutputStream.dateFormatProblem(dateFormat);
            if (problem != null)
                throw settings.invalid(FILENAME_DATE_FORMAT, problem);
            long days = settings.getNumber(RETAIN_DAYS, JsonLinesFile.DEFAULT_RETAIN_DAYS, "days");
            if (days > Integer.MAX_VALUE)
                throw settings.invalid(RETAIN_DAYS, "must be at most " + Integer.MAX_VALUE + " days");
            int retainDays = (int)days;
            problem = JsonLinesFile.retainDaysProblem(retainDays);
            if (problem != null)
                throw settings.invalid(RETAIN_DAYS, problem);
            boolean append = settings.getBoolean(APPEND, JsonLinesFile.DEFAULT_APPEND);
            ZoneId zone;
            try
            {
                // The short ids too (EST, PST...), as java.util.TimeZone, which the request log uses, takes them.
                zone = ZoneId.of(settings.get(ROLLOVER_TIMEZONE, JsonLinesFile.DEFAULT_TIME_ZONE), ZoneId.SHORT_IDS);
            }
            catch (DateTimeException x)
            {
                throw settings.invalid(ROLLOVER_TIMEZONE, "unknown time zone (e.g. GMT, UTC, Europe/Paris, +01:00)");
            }
            if (JsonLinesFile.STDOUT.equals(value))
                return sink.apply(JsonLinesFile.stdout(false));
            Path file;
            try
            {
                file = settings.resolve(value).toAbsolutePath().normalize();
            }
            catch (InvalidPathException x)
            {
                throw settings.invalid(FILE, "not a valid path: " + x.getMessage());
            }
            try
            {
                Path parent = file.getParent();
                if (parent != null && !Files.isDirectory(parent))
                    Files.createDirectories(parent);
                return sink.apply(new Options(file)
                    .filenameDateFormat(dateFormat)
                    .retainDays(retainDays)
                    .append(append)
                    .timeZone(zone)
                    .open());
            }
            catch (FileAlreadyExistsException x)
            {
                // Files.createDirectories() met a file where a directory must be.
                throw settings.invalid(FILE, "cannot append to " + file + ": " + x.getFile() + " is not a directory");
            }
            catch (IOException | UncheckedIOException x)
            {
                Throwable reason = x instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : x;
                String message = reason.getMessage();
                throw settings.invalid(FILE, "cannot append to " + file + ": " + reason.getClass().getSimpleName() + (message == null ? "" : ": " + message));
            }
        }

        private static final class Options extends JsonLinesFile.Options<Options>
        {
            private Options(Path file)
            {
                super(file);
            }
        }
    }

    /** {@code jsonl}: one line per transition ({@link JsonLinesSink}), the keys of a {@link FileSink}. */
    public static final class JsonLines extends FileSink
    {
        /** The sink's name. */
        public static final String NAME = "jsonl";
        /** The default file, relative to {@code jetty.base}. */
        public static final String DEFAULT_FILE = "logs/connstate.jsonl";

        public JsonLines()
        {
            super(NAME, DEFAULT_FILE, JsonLinesSink::new);
        }
    }

    /** {@code connlog}: one line per connection, at its end ({@link ConnLogSink}), the keys of a {@link FileSink}. */
    public static final class ConnLog extends FileSink
    {
        /** The sink's name. */
        public static final String NAME = "connlog";
        /** The default file, relative to {@code jetty.base}: a file a day, as Jetty's request log. */
        public static final String DEFAULT_FILE = "logs/connlog-yyyy_mm_dd.jsonl";

        public ConnLog()
        {
            super(NAME, DEFAULT_FILE, ConnLogSink::new);
        }
    }
}
