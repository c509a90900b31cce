package dev.grpckeepalive.connection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * User agents seen by one server, so that connections of the same client hold one shared
 * string rather than a copy each (64 bytes per connection for grpc-java's); bounded.
 */
final class UserAgents {

	/** How many distinct user agents are shared (the advisor's table has the same cap). */
	static final int MAX_SHARED = 64;

	private final Map<String, String> shared = new ConcurrentHashMap<>();

	/**
	 * One shared instance of a client's user agent: the first {@value #MAX_SHARED} distinct
	 * agents are kept, later ones are not shared.
	 */
	String share(String userAgent) {
		String shared = this.shared.get(userAgent);
		if (shared != null) {
			return shared;
		}
		if (this.shared.size() >= MAX_SHARED) {
			return userAgent;
		}
		shared = this.shared.putIfAbsent(userAgent, userAgent);
		return (shared != null) ? shared : userAgent;
	}

}
