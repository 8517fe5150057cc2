package dev.connstate.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import dev.connstate.Tls;

/** What the integration tests put into a test base: a static page to GET, the TLS keystore, jars of test classes. */
public final class Bases
{
    public static final String PAGE = "hello from jetty-connstate\n";

    private Bases()
    {
    }

    /** A static web application answering {@link #PAGE} on / (needs the static-deploy module). */
    public static void addRootPage(Distribution.Base base) throws IOException
    {
        Path root = base.resolve("webapps/root");
        Files.createDirectories(root);
        Files.writeString(root.resolve("index.html"), PAGE, StandardCharsets.UTF_8);
    }

    /**
     * Copies the tests' keystore ({@link Tls#keyStore()}: a self-signed key for localhost and
     * 127.0.0.1) to {@code etc/it-keystore.p12}.
     *
     * @return the start.jar properties that make the ssl module use it
     */
    public static String[] addKeystore(Distribution.Base base) throws Exception
    {
        Path keystore = base.resolve("etc/it-keystore.p12");
        Files.createDirectories(keystore.getParent());
        Files.copy(Tls.keyStore(), keystore);
        return new String[]{
            "jetty.sslContext.keyStorePath=etc/it-keystore.p12",
            "jetty.sslContext.keyStoreType=PKCS12",
            "jetty.sslContext.keyStorePassword=" + Tls.PASSWORD
        };
    }

    /**
     * Packs test classes into a jar of their own, as a user's jar in {@code lib/connstate/}:
     * each class with its nested classes and with its superclasses that are test classes too.
     *
     * @param providers service interface to implementation, registered for the ServiceLoader
     */
    public static void testClassesJar(Path jar, List<Class<?>> classes, Map<Class<?>, Class<?>> providers) throws IOException
    {
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)))
        {
            for (Class<?> type : classes)
            {
                for (Class<?> c = type; isTestClass(c); c = c.getSuperclass())
                    addClassFiles(out, c);
            }
            for (Map.Entry<Class<?>, Class<?>> provider : providers.entrySet())
            {
                out.putNextEntry(new JarEntry("META-INF/services/" + provider.getKey().getName()));
                out.write((provider.getValue().getName() + "\n").getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
    }

    private static boolean isTestClass(Class<?> type)
    {
        return type != null && Files.exists(Distribution.TEST_CLASSES.resolve(classFile(type)));
    }

    private static String classFile(Class<?> type)
    {
        return type.getName().replace('.', '/') + ".class";
    }

    /** {@code type}'s class file and those of its nested classes ({@code Type$*.class}). */
    private static void addClassFiles(JarOutputStream out, Class<?> type) throws IOException
    {
        String dir = type.getPackageName().replace('.', '/');
        String name = type.getSimpleName();
        try (Stream<Path> files = Files.list(Distribution.TEST_CLASSES.resolve(dir)))
        {
            for (Path file : (Iterable<Path>)files.sorted()::iterator)
            {
                String fileName = file.getFileName().toString();
                if (!fileName.equals(name + ".class") && !fileName.startsWith(name + "$"))
                    continue;
                out.putNextEntry(new JarEntry(dir + "/" + fileName));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
    }
}
