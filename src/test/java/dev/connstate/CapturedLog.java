package dev.connstate;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.eclipse.jetty.logging.JettyLogger;
import org.eclipse.jetty.logging.StdErrAppender;
import org.slf4j.LoggerFactory;

/**
 * What Jetty's logging writes while it is open (the tests log through Jetty's SLF4J provider,
 * whose appender all loggers share): close it to write to the console again.
 */
public final class CapturedLog implements AutoCloseable
{
    private final StdErrAppender appender;
    private final PrintStream original;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    /** @param logged a class whose logger writes what the test wants to read */
    public CapturedLog(Class<?> logged)
    {
        appender = (StdErrAppender)((JettyLogger)LoggerFactory.getLogger(logged)).getAppender();
        original = appender.getStream();
        appender.setStream(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    /** @return the lines written so far that contain {@code text} */
    public List<String> lines(String text)
    {
        return all().lines().filter(line -> line.contains(text)).toList();
    }

    public String all()
    {
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close()
    {
        appender.setStream(original);
    }
}
