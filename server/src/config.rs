//! redis.conf parsing and the runtime configuration (CONFIG GET/SET/REWRITE).
