package dev.connstate.dropwizard;

import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Environment;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import org.eclipse.jetty.server.Server;

/**
 * A real Dropwizard application for the tests, started as its {@code server} command starts it:
 * one Jersey resource ({@code GET /hello}), its server once started, logging left to the tests,
 * and a failure thrown instead of {@code System.exit()}.
 *
 * @param <T> its configuration
 */
public abstract class TestApplication<T extends Configuration> extends Application<T>
{
    /** The server part of a configuration: one HTTP connector on a free port of 127.0.0.1. */
    public static final String SERVER = """
        server:
          type: simple
          applicationContextPath: /
          connector:
            type: http
            bindHost: 127.0.0.1
            port: 0
          requestLog:
            appenders: []
        logging:
          type: external
        """;

    volatile Server server;

    @Override
    public void run(T configuration, Environment environment)
    {
        environment.jersey().register(new Hello());
        environment.lifecycle().addServerLifecycleListener(started -> server = started);
        configure(configuration, environment);
    }

    /** The test's own part of {@link #run}. */
    protected abstract void configure(T configuration, Environment environment);

    @Override
    protected void bootstrapLogging()
    {
        // The tests log through Jetty's SLF4J provider: Dropwizard leaves logging alone
        // (and its configuration says logging type external).
    }

    @Override
    protected void onFatalError(Throwable failure)
    {
        // Never System.exit() in a test JVM.
        throw new IllegalStateException("Dropwizard could not start", failure);
    }

    @Path("/hello")
    public static class Hello
    {
        @GET
        public String hello()
        {
            return "hello";
        }
    }
}
