package dev.grpckeepalive.client;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Limits a {@link io.grpc.ClientInterceptor} bean to some of the channels this starter creates
 * ({@code grpc.keepalive.client.channels.<name>}). Without it, a {@code ClientInterceptor}
 * bean applies to every channel. Put it on the {@code @Bean} method or on the bean's class:
 *
 * <pre class="code">
 * &#64;Bean
 * &#64;Order(10)
 * &#64;GrpcChannelInterceptor(channels = "upstream")
 * ClientInterceptor upstreamAuth() {
 *     return new BearerTokenInterceptor(...);
 * }
 * </pre>
 *
 * A name that no channel has fails startup. On every channel the interceptors run in
 * {@link org.springframework.core.annotation.Order @Order}: the first runs first.
 */
@Target({ ElementType.TYPE, ElementType.METHOD })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface GrpcChannelInterceptor {

	/**
	 * The channels the interceptor applies to: keys under {@code grpc.keepalive.client.channels}.
	 * Empty: every channel.
	 * @return the channel names
	 */
	String[] channels() default {};

}
