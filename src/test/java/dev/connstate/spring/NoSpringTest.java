package dev.connstate.spring;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without Spring on the class path (a Jetty distribution, an embedded server), the module and the
 * tracker work, and not one class of Spring or of {@code dev.connstate.spring} is even asked for:
 * the jar's Spring Boot part is only ever read by Boot.
 */
public class NoSpringTest
{
    @Test
    public void theModuleServesAndLoadsNothingOfSpring() throws Exception
    {
        try (WithoutSpring loader = new WithoutSpring())
        {
            assertNull(loader.getResource("org/springframework/boot/SpringApplication.class"), "the isolated class path still holds Spring Boot");
            @SuppressWarnings("unchecked")
            Callable<String> probe = (Callable<String>)loader.loadClass(NoSpringProbe.class.getName()).getConstructor().newInstance();
            assertEquals("new, active, closed", probe.call());
            assertTrue(loader.asked.contains("dev.connstate.config.ConnStateModule"));
            assertEquals(List.of(), loader.asked.stream()
                .filter(name -> name.startsWith("org.springframework.") || (name.startsWith("dev.connstate.spring.") && !name.startsWith(NoSpringProbe.class.getName())))
                .sorted().toList());
        }
    }

    /** The test class path without Spring's jars, remembering every class asked of it. */
    private static final class WithoutSpring extends URLClassLoader
    {
        private final Set<String> asked = ConcurrentHashMap.newKeySet();

        private WithoutSpring() throws MalformedURLException
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
                if (!entry.replace(File.separatorChar, '/').contains("/org/springframework/"))
                    urls.add(Path.of(entry).toUri().toURL());
            }
            return urls.toArray(URL[]::new);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException
        {
            asked.add(name);
            return super.loadClass(name, resolve);
        }
    }
}
