package dev.grpckeepalive.config;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Binds {@code grpc.keepalive.*} and validates it as a whole before any server or channel
 * is built, so that invalid settings fail startup up front with a report of every mistake.
 */
@AutoConfiguration
@EnableConfigurationProperties(GrpcKeepAliveProperties.class)
public final class GrpcKeepAliveAutoConfiguration {

	@Bean
	KeepAliveSettings grpcKeepAliveSettings(GrpcKeepAliveProperties properties) {
		return KeepAliveSettings.resolve(properties);
	}

}
