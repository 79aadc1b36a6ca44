from django.core.management.base import BaseCommand

from applicants.demo import demo_applicants_create, demo_users_create


class Command(BaseCommand):
    help = "Create the demo users (passwords printed: demo only) and a few demo applicants."

    def handle(self, *args, **options) -> None:
        users = demo_users_create()
        created = demo_applicants_create()
        self.stdout.write(self.style.SUCCESS("Demo users (DEMO ONLY - never use in production):"))
        for user in users:
            self.stdout.write(f"  {user.role:<15} {user.username:<10} password: {user.password}")
        if created:
            self.stdout.write(f"Created {created} demo applicants with applications.")
