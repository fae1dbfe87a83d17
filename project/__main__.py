from project.cli import main

main(prog_name="project")
