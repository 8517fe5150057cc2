package dev.connstate.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

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

    /** {@code jsonl}: key {@code file}, relative to {@code jetty.base}, or {@code -} for standard output. */
    public static final class JsonLines implements ConnStateSinkProvider
    {
        /** The sink's name. */
        public static final String NAME = "jsonl";
        /** Key: the file, by default {@value #DEFAULT_FILE}. */
        public static final String FILE = "file";
        /** The default file, relative to {@code jetty.base}. */
        public static final String DEFAULT_FILE = "logs/connstate.jsonl";

        @Override
        public String name()
        {
            return NAME;
        }

        @Override
        public ConnStateListener newSink(SinkSettings settings)
        {
            String value = settings.get(FILE, DEFAULT_FILE);
            if (value.isEmpty())
                throw settings.invalid(FILE, "a file name is required (or - for standard output)");
            if (JsonLinesSink.STDOUT.equals(value))
                return new JsonLinesSink(JsonLinesSink.STDOUT);
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
                return new JsonLinesSink(file);
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
    }
}
