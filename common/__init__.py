"""Code shared by the apps that is not about any one of them (uploaded spreadsheets...)."""
