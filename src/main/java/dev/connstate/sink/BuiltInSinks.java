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
        @Override
        public String name()
        {
            return "log";
        }

        @Override
        public ConnStateListener newSink(SinkSettings settings)
        {
            String logger = settings.get("logger", LogSink.DEFAULT_LOGGER);
            if (logger.isEmpty())
                throw settings.invalid("logger", "the logger name must not be empty");
            try
            {
                return new LogSink(logger, settings.get("format", LogSink.DEFAULT_FORMAT));
            }
            catch (IllegalArgumentException x)
            {
                throw settings.invalid("format", x.getMessage());
            }
        }
    }

    /** {@code jsonl}: key {@code file}, relative to {@code jetty.base}, or {@code -} for standard output. */
    public static final class JsonLines implements ConnStateSinkProvider
    {
        /** The default file, relative to {@code jetty.base}. */
        public static final String DEFAULT_FILE = "logs/connstate.jsonl";

        @Override
        public String name()
        {
            return "jsonl";
        }

        @Override
        public ConnStateListener newSink(SinkSettings settings)
        {
            String value = settings.get("file", DEFAULT_FILE);
            if (value.isEmpty())
                throw settings.invalid("file", "a file name is required (or - for standard output)");
            if (JsonLinesSink.STDOUT.equals(value))
                return new JsonLinesSink(JsonLinesSink.STDOUT);
            Path file;
            try
            {
                file = settings.resolve(value).toAbsolutePath().normalize();
            }
            catch (InvalidPathException x)
            {
                throw settings.invalid("file", "not a valid path: " + x.getMessage());
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
                throw settings.invalid("file", "cannot append to " + file + ": " + x.getFile() + " is not a directory");
            }
            catch (IOException | UncheckedIOException x)
            {
                Throwable reason = x instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : x;
                String message = reason.getMessage();
                throw settings.invalid("file", "cannot append to " + file + ": " + reason.getClass().getSimpleName() + (message == null ? "" : ": " + message));
            }
        }
    }
}
