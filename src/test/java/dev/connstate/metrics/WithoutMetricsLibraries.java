package dev.connstate.metrics;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A class loader over the test class path without Micrometer, OpenTelemetry and Prometheus (what
 * a Jetty without them has), that remembers the name of every class asked of it.
 */
final class WithoutMetricsLibraries extends URLClassLoader
{
    private static final List<String> LIBRARIES = List.of("/io/micrometer/", "/io/opentelemetry/", "/io/prometheus/", "/org/hdrhistogram/", "/org/latencyutils/");

    private final Set<String> asked = ConcurrentHashMap.newKeySet();

    WithoutMetricsLibraries() throws MalformedURLException
    {
        super(classPath(), ClassLoader.getPlatformClassLoader());
    }

    private static URL[] classPath() throws MalformedURLException
    {
        // Surefire runs the tests from a manifest-only jar and names the real class path here.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<URL> urls = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator))
        {
            String path = entry.replace(File.separatorChar, '/');
            if (LIBRARIES.stream().noneMatch(path::contains))
                urls.add(Path.of(entry).toUri().toURL());
        }
        return urls.toArray(URL[]::new);
    }

    /**
     * @return whether the class path still holds something of the metrics libraries (then this loader proves nothing)
     */
    boolean holdsAMetricsLibrary()
    {
        return getResource("io/micrometer/core/instrument/MeterRegistry.class") != null
            || getResource("io/opentelemetry/api/OpenTelemetry.class") != null;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException
    {
        asked.add(name);
        return super.loadClass(name, resolve);
    }

    /**
     * @return the names of the classes asked of this loader so far
     */
    Set<String> asked()
    {
        return Set.copyOf(asked);
    }
}
