package example;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A minimal Spring Boot web application on Jetty. jetty-connstate's auto-configuration does the
 * rest: every connection's state changes are logged, counted in the metrics and shown at
 * /actuator/connstate.
 */
@SpringBootApplication
@RestController
public class ExampleApplication
{
    public static void main(String[] args)
    {
        SpringApplication.run(ExampleApplication.class, args);
    }

    @GetMapping("/")
    public String hello()
    {
        return "hello from jetty-connstate on Spring Boot\n";
    }
}
