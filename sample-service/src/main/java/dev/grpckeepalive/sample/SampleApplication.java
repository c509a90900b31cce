package dev.grpckeepalive.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A price service: a unary quote RPC and a long-lived price stream served by the
 * starter's keepalive-managed server, and a subscriber that keeps a stream open to it over
 * the starter's {@code prices} channel.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
