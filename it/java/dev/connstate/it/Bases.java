package dev.connstate.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test bases: a static page to GET, and a TLS keystore made with keytool. */
public final class Bases
{
    public static final String PAGE = "hello from jetty-connstate\n";
    public static final String KEYSTORE_PASSWORD = "connstate-it";

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
     * Makes {@code etc/it-keystore.p12} (a self-signed EC key for localhost and 127.0.0.1) with
     * the JDK's keytool.
     *
     * @return the start.jar properties that make the ssl module use it
     */
    public static String[] addKeystore(Distribution.Base base) throws IOException, InterruptedException
    {
        Path keystore = base.resolve("etc/it-keystore.p12");
        Files.createDirectories(keystore.getParent());
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path output = base.resolve("keytool.out");
        Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "jetty", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
            "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", KEYSTORE_PASSWORD, "-keypass", KEYSTORE_PASSWORD)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
        try
        {
            if (!process.waitFor(Distribution.COMMAND_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0)
                throw new AssertionError("keytool failed: " + Distribution.read(output));
        }
        finally
        {
            Distribution.kill(process);
        }
        return new String[]{
            "jetty.sslContext.keyStorePath=etc/it-keystore.p12",
            "jetty.sslContext.keyStoreType=PKCS12",
            "jetty.sslContext.keyStorePassword=" + KEYSTORE_PASSWORD
        };
    }
}
