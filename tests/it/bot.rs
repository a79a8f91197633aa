//! A small bot world for the command tests: the `World` of helpers.rs with a
//! Discord server bound to the tenant, linked chat accounts, a fast (test-only)
//! hasher, a pinned clock and seeded randomness.

use std::sync::Arc;

use hallpass::app::{App, ManualClock, Randomness, Settings};
use hallpass::audit::Action;
use hallpass::commands::{Invocation, Reply, Request, handle};
use hallpass::credentials::{HashParams, PasswordHasher};
use hallpass::directory::{DiscordGuildId, DiscordUserId, Place, Role, User};

use crate::helpers::{TestDb, World, cli_audit, t0};

pub const GUILD: u64 = 4242;

pub struct Bot {
    pub db: TestDb,
    pub world: World,
    pub app: App,
    pub clock: Arc<ManualClock>,
    /// Teacher at A1.
    pub tess: User,
    /// Another teacher at A1 (teachers can't see each other).
    pub tom: User,
    /// Students: ana at A1, ben at A1, cara at A2 (same district, other school), dev at B1.
    pub ana: User,
    pub ben: User,
    pub cara: User,
    pub dev: User,
    /// School admin at A1.
    pub sam: User,
    /// District admins of district A.
    pub dana: User,
    pub dave: User,
}

impl Bot {
    pub async fn new() -> Self {
        Self::on(TestDb::sqlite().await).await
    }

    pub async fn on(db: TestDb) -> Self {
        let world = World::build(&db.store).await;
        let store = &db.store;
        let district_a = Place::District {
            district: world.district_a.id,
        };
        let tess = world
            .user(store, "tess.teach", Role::Teacher, World::at(&world.a1))
            .await;
        let tom = world
            .user(store, "tom.teach", Role::Teacher, World::at(&world.a1))
            .await;
        let ana = world
            .user(store, "ana.lopez", Role::Student, World::at(&world.a1))
            .await;
        let ben = world
            .user(store, "ben.ng", Role::Student, World::at(&world.a1))
            .await;
        let cara = world
            .user(store, "cara.diaz", Role::Student, World::at(&world.a2))
            .await;
        let dev = world
            .user(store, "dev.patel", Role::Student, World::at(&world.b1))
            .await;
        let sam = world
            .user(store, "sam.admin", Role::SchoolAdmin, World::at(&world.a1))
            .await;
        let dana = world
            .user(store, "dana.district", Role::DistrictAdmin, district_a)
            .await;
        let dave = world
            .user(store, "dave.district", Role::DistrictAdmin, district_a)
            .await;
        store
            .bind_guild(
                DiscordGuildId::new(GUILD),
                world.tenant.id,
                cli_audit(Action::GuildBind, t0()),
            )
            .await
            .unwrap();
        let mut linked = Vec::new();
        for (n, user) in [&tess, &tom, &ana, &ben, &sam, &dana, &dave]
            .into_iter()
            .enumerate()
        {
            let discord = DiscordUserId::new(1000 + n as u64);
            linked.push(
                store
                    .link_discord(user, discord, cli_audit(Action::ChatLink, t0()))
                    .await
                    .unwrap(),
            );
        }
        let [tess, tom, ana, ben, sam, dana, dave]: [User; 7] = linked.try_into().unwrap();
        let hasher = PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let mut app = App::new(db.store.clone(), hasher, Settings::default());
        app.clock = clock.clone();
        app.random = Arc::new(Randomness::seeded(7));
        Self {
            db,
            world,
            app,
            clock,
            tess,
            tom,
            ana,
            ben,
            cara,
            dev,
            sam,
            dana,
            dave,
        }
    }

    /// Another instance on the bot's database, as a second `serve` is: its
    /// own connections and randomness, the same clock.
    pub async fn another_instance(&self) -> App {
        let store = hallpass::store::Store::connect(&self.db.url).await.unwrap();
        let hasher = PasswordHasher::new(HashParams::insecure_fast_for_tests_only()).unwrap();
        let mut app = App::new(store, hasher, Settings::default());
        app.clock = self.clock.clone();
        app.random = Arc::new(Randomness::seeded(8));
        app
    }

    pub fn inv(user: &User) -> Invocation {
        Invocation {
            guild: Some(DiscordGuildId::new(GUILD)),
            channel: Some("555".into()),
            interaction_id: Some("777".into()),
            user: user.discord_user_id,
            api_caller: None,
        }
    }

    pub async fn run(&self, as_user: &User, request: Request) -> Reply {
        handle(&self.app, &Self::inv(as_user), request).await
    }

    pub async fn command(&self, as_user: &User, name: &str, options: &[(&str, &str)]) -> Reply {
        self.run(as_user, Request::command(name, options)).await
    }

    /// Whether `password` verifies against the hash stored for `user` (who
    /// must have one).
    pub async fn holds_password(&self, user: &User, password: &str) -> bool {
        let stored = self
            .db
            .store
            .password_hash(self.world.tenant.id, user.id)
            .await
            .unwrap()
            .expect("a password is stored");
        let hash = hallpass::credentials::PasswordHash::parse(&stored.phc).unwrap();
        self.app
            .hasher
            .verify(&secrecy::SecretString::from(password.to_owned()), &hash)
            .await
            .unwrap()
    }

    pub async fn reload(&self, user: &User) -> User {
        self.db
            .store
            .user(self.world.tenant.id, user.id)
            .await
            .unwrap()
            .unwrap()
    }
}
