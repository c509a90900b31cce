package com.example.legacy;

import io.grpc.netty.NettyServerBuilder;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.server.ServerBuilderCustomizer;

/**
 * A customizer as the application had it before this starter: typed on unshaded grpc-netty's
 * builder (which Spring Boot's gRPC starters bring). Outside the application's package, so
 * that only the test that asks for it gets it.
 */
@Configuration(proxyBeanMethods = false)
public class UnshadedCustomizerConfiguration {

	@Bean
	ServerBuilderCustomizer<NettyServerBuilder> legacyFlowControl() {
		return (builder) -> builder.flowControlWindow(1024 * 1024);
	}

}
