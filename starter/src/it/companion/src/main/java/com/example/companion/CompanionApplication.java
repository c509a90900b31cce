package com.example.companion;

import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.ServerBuilderCustomizer;

@SpringBootApplication
public class CompanionApplication {

	/** How often Spring Boot applied {@link #inboundMessageLimit}. */
	public static final AtomicInteger CUSTOMIZED = new AtomicInteger();

	public static void main(String[] args) {
		SpringApplication.run(CompanionApplication.class, args);
	}

	/**
	 * A Netty customizer typed on grpc-netty-shaded's builder, which Spring Boot builds its
	 * server with once this starter is on the class path.
	 */
	@Bean
	ServerBuilderCustomizer<NettyServerBuilder> inboundMessageLimit() {
		return (builder) -> {
			builder.maxInboundMessageSize(1024 * 1024);
			CUSTOMIZED.incrementAndGet();
		};
	}

}
